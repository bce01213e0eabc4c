import type { SseFrame } from './sse-frame';

/** The live frames waiting for one client, the newest state of each key only. */
export interface LiveQueue {
  /** Bytes waiting (SharedQueue: replaced frames count until skipped or compacted). */
  readonly bytes: number;
  readonly empty: boolean;
  add(frame: SseFrame): void;
  /** Emits frames in order until `budget` bytes went out or `stop()`; answers the bytes emitted. */
  send(budget: number, emit: (frame: SseFrame) => void, stop: () => boolean): number;
  /** Forgets what waits only as an older state; answers the bytes left. */
  compact(): number;
}

/**
 * For a view stream, whose frames are its own choice: keyed by task (or event name), a
 * newer frame replaces the waiting one and moves to the end, so ids stay increasing.
 */
export class KeyedQueue implements LiveQueue {
  private readonly frames = new Map<string, SseFrame>();
  bytes = 0;

  get empty(): boolean {
    return this.frames.size === 0;
  }

  add(frame: SseFrame): void {
    for (const part of frame.parts ?? [frame]) {
      if (part.key === null) continue;
      const previous = this.frames.get(part.key);
      if (previous) {
        this.frames.delete(part.key);
        this.bytes -= previous.size;
      }
      this.frames.set(part.key, part);
      this.bytes += part.size;
    }
  }

  send(budget: number, emit: (frame: SseFrame) => void, stop: () => boolean): number {
    let spent = 0;
    for (const [key, frame] of this.frames) {
      if (spent >= budget || stop()) break;
      emit(frame);
      this.frames.delete(key);
      this.bytes -= frame.size;
      spent += frame.size;
    }
    return spent;
  }

  compact(): number {
    return this.bytes;
  }
}

/**
 * For a plain stream, which gets every frame the hub sends: the hub's batches as they
 * are, shared by every client (a burst costs each client one entry per flush, not one
 * per event), and a frame whose task has a newer one behind it is skipped when its
 * turn comes (NewestFrames marks it): the same events as a queue keyed by task.
 */
export class SharedQueue implements LiveQueue {
  private readonly batches: (readonly SseFrame[])[] = [];
  /** Next frame of the first batch. */
  private next = 0;
  bytes = 0;

  get empty(): boolean {
    return this.batches.length === 0;
  }

  add(frame: SseFrame): void {
    if (frame.key === null && !frame.parts) return;
    this.batches.push(frame.parts ?? [frame]);
    this.bytes += frame.size;
  }

  send(budget: number, emit: (frame: SseFrame) => void, stop: () => boolean): number {
    let spent = 0;
    while (this.batches.length > 0 && spent < budget && !stop()) {
      const batch = this.batches[0];
      const frame = batch[this.next++];
      if (this.next >= batch.length) {
        this.batches.shift();
        this.next = 0;
      }
      this.bytes -= frame.size;
      if (frame.replaced || frame.key === null) continue;
      emit(frame);
      spent += frame.size;
    }
    return spent;
  }

  compact(): number {
    const live: SseFrame[] = [];
    for (let b = 0; b < this.batches.length; b++) {
      const batch = this.batches[b];
      for (let i = b === 0 ? this.next : 0; i < batch.length; i++) if (!batch[i].replaced && batch[i].key !== null) live.push(batch[i]);
    }
    this.batches.length = 0;
    this.next = 0;
    this.bytes = live.reduce((n, f) => n + f.size, 0);
    if (live.length > 0) this.batches.push(live);
    return this.bytes;
  }
}
