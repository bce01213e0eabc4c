import type { MessageEvent } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { Observable } from 'rxjs';
import { SseFrame, commentFrame } from './sse-frame';

/**
 * One client's stream as Nest's `@Sse()` sends it, with memory bounded per client.
 *
 * Frames go straight through while the response is not backed up. Once it is
 * (Nest's stream stops at the socket's high-water mark and would otherwise queue
 * every later event), they wait here, keyed by task, where a newer state replaces
 * the waiting one and moves to the end (ids stay increasing; comments are dropped),
 * until the socket drains. When what waits passes `maxQueuedBytes`, the client gets
 * a final comment and the stream ends; an EventSource reconnects with its Last-Event-ID.
 */
export function clientMessages(frames: Observable<SseFrame>, response: ServerResponse, maxQueuedBytes: number): Observable<MessageEvent> {
  return new Observable<MessageEvent>((subscriber) => {
    let queue: Map<string, SseFrame> | null = null;
    let queuedBytes = 0;
    /** The first batch (live tasks, or a replay) is bounded by itself: never queued or dropped. */
    let initial = true;

    const emit = (frame: SseFrame) => {
      if (frame.message) subscriber.next(frame.message);
      else for (const part of frame.parts ?? []) emit(part);
    };
    const hasRoom = () => !response.writableNeedDrain;
    const enqueue = (frame: SseFrame) => {
      if (frame.key === null) return;
      queue ??= new Map();
      const previous = queue.get(frame.key);
      if (previous) {
        queue.delete(frame.key);
        queuedBytes -= previous.size;
      }
      queue.set(frame.key, frame);
      queuedBytes += frame.size;
    };
    const drain = () => {
      if (queue === null) return;
      for (const [key, frame] of queue) {
        if (!hasRoom()) return;
        emit(frame);
        queue.delete(key);
        queuedBytes -= frame.size;
      }
      queue = null;
      queuedBytes = 0;
    };
    response.on('drain', drain);

    const subscription = frames.subscribe({
      next: (frame) => {
        if (subscriber.closed) return;
        if (queue === null && (initial || hasRoom())) return emit(frame);
        for (const part of frame.parts ?? [frame]) enqueue(part);
        if (queuedBytes > maxQueuedBytes) {
          queue = null;
          emit(commentFrame('dropped: the client did not keep up; reconnect to resume'));
          subscriber.complete();
        }
      },
      error: (error) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
    initial = false;
    return () => {
      subscription.unsubscribe();
      response.off('drain', drain);
    };
  });
}
