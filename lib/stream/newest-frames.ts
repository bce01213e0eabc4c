import type { SseFrame } from './sse-frame';

/**
 * The newest frame of each task (and named event) sent to the plain streams. When a
 * newer one goes out, the one before is marked `replaced`: every plain stream still
 * holding it in its queue holds the newer one behind it too, so it skips the old one
 * (see SharedQueue) without a per-client look-up. Kept only for live tasks: a task's
 * last event lets it go, and so does a flush without plain streams.
 */
export class NewestFrames {
  private readonly frames = new Map<string, SseFrame>();

  sent(key: string, frame: SseFrame, last: boolean): void {
    const previous = this.frames.get(key);
    if (previous) previous.replaced = true;
    if (last) this.frames.delete(key);
    else this.frames.set(key, frame);
  }

  forget(key: string): void {
    this.frames.delete(key);
  }

  clear(): void {
    this.frames.clear();
  }
}
