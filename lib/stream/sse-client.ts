import type { MessageEvent } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { Observable } from 'rxjs';
import { SseFrame, commentFrame } from './sse-frame';
import type { WritePressure } from './sse-response';

export interface ClientBounds {
  /** Bytes of live events that may wait for a client that does not read; past it the stream ends. */
  maxQueuedBytes: number;
  /** Bytes handed to Nest in one turn of the event loop, at most, while the response is not backed up. */
  pageBytes: number;
}

/**
 * One client's stream as Nest's `@Sse()` sends it, with memory bounded per client.
 *
 * Nothing is handed to Nest while the response is backed up: Nest's sender would
 * queue every such event for the client. So:
 * - the first batch (the frames emitted while subscribing: live tasks or a replay)
 *   is sent in pages of about `pageBytes`, each once the previous one has left; the
 *   frames that wait are the hub's own, shared by every client, and this client
 *   only holds its place in them;
 * - a live frame goes straight through when nothing waits and the response has
 *   room, else it waits here, keyed by task, where a newer state replaces the
 *   waiting one and moves to the end (ids stay increasing; comments are dropped).
 *   When what waits passes `maxQueuedBytes`, the client gets a final comment and
 *   the stream ends; an EventSource reconnects with its Last-Event-ID.
 */
export function clientMessages(
  frames: Observable<SseFrame>,
  response: ServerResponse,
  pressure: WritePressure,
  bounds: ClientBounds,
): Observable<MessageEvent> {
  return new Observable<MessageEvent>((subscriber) => {
    let backlog: readonly SseFrame[] = [];
    let sent = 0;
    let queue: Map<string, SseFrame> | null = null;
    let queuedBytes = 0;
    let subscribing = true;
    let pumpTimer: NodeJS.Immediate | null = null;

    const emit = (frame: SseFrame) => {
      if (frame.message) subscriber.next(frame.message);
      else for (const part of frame.parts ?? []) emit(part);
    };
    const idle = () => sent >= backlog.length && queue === null;
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
    /** One page: the rest of the first batch first, then what waits, until the page is full or the response backs up. */
    const pump = () => {
      pumpTimer = null;
      if (subscriber.closed) return;
      let budget = bounds.pageBytes;
      while (budget > 0 && !pressure.backedUp && sent < backlog.length) {
        const frame = backlog[sent++];
        emit(frame);
        budget -= frame.size;
      }
      if (sent >= backlog.length) backlog = [];
      if (queue !== null && sent >= backlog.length) {
        for (const [key, frame] of queue) {
          if (budget <= 0 || pressure.backedUp) break;
          emit(frame);
          queue.delete(key);
          queuedBytes -= frame.size;
          budget -= frame.size;
        }
        if (queue.size === 0) {
          queue = null;
          queuedBytes = 0;
        }
      }
      // Backed up: 'drain' calls again. Else the page was full: go on next turn.
      if (!idle() && !pressure.backedUp) pumpTimer = setImmediate(pump);
    };
    const onDrain = () => {
      if (pumpTimer === null && !idle()) pump();
    };
    response.on('drain', onDrain);

    const subscription = frames.subscribe({
      next: (frame) => {
        if (subscriber.closed) return;
        if (subscribing) {
          const parts = frame.parts ?? [frame];
          backlog = backlog.length === 0 ? parts : [...backlog, ...parts];
          return;
        }
        if (idle() && !pressure.backedUp) return emit(frame);
        for (const part of frame.parts ?? [frame]) enqueue(part);
        if (queuedBytes > bounds.maxQueuedBytes) {
          queue = null;
          backlog = [];
          emit(commentFrame('dropped: the client did not keep up; reconnect to resume'));
          subscriber.complete();
        }
      },
      error: (error) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
    subscribing = false;
    if (!subscriber.closed) pump();
    return () => {
      subscription.unsubscribe();
      if (pumpTimer) clearImmediate(pumpTimer);
      response.off('drain', onDrain);
    };
  });
}
