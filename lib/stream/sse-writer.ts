import type { IncomingMessage, ServerResponse } from 'node:http';
import { Observable, Subscription } from 'rxjs';
import { SseFrame, commentFrame } from './sse-frame';

/** How long a dropped client may take to read what was already written before its socket is destroyed. */
const DROP_GRACE_MS = 10_000;

export interface SseWriterStats {
  /** Frames replaced by a newer frame of the same task while the client was backed up. */
  coalesced: number;
}

/**
 * Writes an SSE stream on the raw response.
 *
 * Why not Nest's `@Sse()`: its SseStream sends `Cache-Control: private, no-cache,
 * no-store, ...` where SPEC §5 says `no-cache`, numbers every event without an id
 * with its own per-connection counter (a `metrics` event would get an id that
 * clobbers the client's Last-Event-ID), and for a client that does not keep up it
 * can only queue or drop, whereas here frames of one task replace each other.
 *
 * Memory per client is bounded by `maxQueuedBytes` twice over: frames go straight
 * to the socket while its buffer holds less than that (so a burst larger than the
 * socket's own buffer does not count as slowness); past it they wait in a map keyed
 * by task, where a newer state replaces the waiting one and moves to the end (ids
 * stay increasing; comments are dropped), until `drain`. When the map too passes
 * the bound, the client is dropped with a final comment; an EventSource reconnects
 * with its Last-Event-ID. Frame texts are shared by all clients, so the real cost
 * of a waiting frame is one map entry.
 */
export class SseWriter {
  private queue: Map<string, Buffer> | null = null;
  private queuedBytes = 0;
  private subscription: Subscription | null = null;
  private finished = false;
  /** True while the first batch is written: it is bounded by the live tasks, never dropped. */
  private initial = false;
  readonly stats: SseWriterStats = { coalesced: 0 };

  constructor(
    private readonly request: IncomingMessage,
    private readonly response: ServerResponse,
    private readonly maxQueuedBytes: number,
  ) {}

  /** Sends the headers and pipes `frames` until they complete or the client leaves. */
  pipe(frames: Observable<SseFrame>): void {
    const { request, response } = this;
    response.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      'X-Accel-Buffering': 'no',
      ...(request.httpVersionMajor < 2 ? { Connection: 'keep-alive' } : {}),
    });
    response.flushHeaders();
    if (request.method === 'HEAD') {
      this.finish();
      return;
    }
    request.socket.setNoDelay(true);
    request.socket.setTimeout(0);
    response.on('close', () => this.finish());
    response.on('drain', () => this.drain());
    this.initial = true;
    const subscription = frames.subscribe({ next: (f) => this.send(f), complete: () => this.finish() });
    this.initial = false;
    if (this.finished) subscription.unsubscribe();
    else this.subscription = subscription;
  }

  private send(frame: SseFrame): void {
    if (this.finished) return;
    if (this.queue === null && (this.initial || this.hasRoom())) {
      this.response.write(frame.bytes);
      return;
    }
    for (const part of frame.parts ?? [frame]) this.enqueue(part);
    if (this.queuedBytes > this.maxQueuedBytes) this.drop();
  }

  private enqueue(frame: SseFrame): void {
    if (frame.key === null) return;
    this.queue ??= new Map();
    const previous = this.queue.get(frame.key);
    if (previous !== undefined) {
      this.queue.delete(frame.key);
      this.queuedBytes -= previous.length;
      this.stats.coalesced++;
    }
    this.queue.set(frame.key, frame.bytes);
    this.queuedBytes += frame.bytes.length;
  }

  /** The socket flushed its buffer: hand it what waited, up to the bound again. */
  private drain(): void {
    const queue = this.queue;
    if (queue === null || this.finished) return;
    for (const [key, bytes] of queue) {
      if (!this.hasRoom()) return;
      this.response.write(bytes);
      queue.delete(key);
      this.queuedBytes -= bytes.length;
    }
    this.queue = null;
    this.queuedBytes = 0;
  }

  /** The socket's buffer is below the bound (or below its own high-water mark, so `drain` will come). */
  private hasRoom(): boolean {
    return !this.response.writableNeedDrain || this.response.writableLength < this.maxQueuedBytes;
  }

  /** Gives up on a client that does not read: a last comment, then the end. */
  private drop(): void {
    this.queue = null;
    this.queuedBytes = 0;
    this.response.write(commentFrame('dropped: the client did not keep up; reconnect to resume').bytes);
    this.finish();
    const timer = setTimeout(() => this.response.destroy(), DROP_GRACE_MS);
    timer.unref();
    this.response.once('close', () => clearTimeout(timer));
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.queue = null;
    this.subscription?.unsubscribe();
    this.subscription = null;
    if (!this.response.writableEnded) this.response.end();
  }
}
