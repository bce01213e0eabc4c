import type { MessageEvent } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { Observable } from 'rxjs';
import { KeyedQueue, LiveQueue, SharedQueue } from './live-queue';
import { SseFrame, commentFrame } from './sse-frame';
import type { SendTurns } from './send-turns';
import type { WritePressure } from './sse-response';

export interface ClientBounds {
  /** Bytes of live events that may wait for a client that does not read; past it the stream ends. */
  maxQueuedBytes: number;
  /** A plain stream, which gets every frame of the hub (a SharedQueue), rather than a view stream's choice. */
  plain: boolean;
}

/**
 * One client's stream as Nest's `@Sse()` sends it, with memory bounded per client.
 *
 * Nothing is handed to Nest while the response is backed up: Nest's sender would
 * queue every such event for the client. So:
 * - the first batch (the frames emitted while subscribing: live tasks or a replay)
 *   is sent a page per turn (see SendTurns), each once the previous one has left; the
 *   frames that wait are the hub's own, shared by every client, and this client
 *   only holds its place in them;
 * - live frames wait here (see LiveQueue) and leave a page per turn while the response
 *   has room: a burst is not handed to Nest at once (its sender would hold every event
 *   of it, unmerged, for this client), so a newer state of a task still waiting
 *   replaces the waiting one (ids stay increasing): a client behind a burst gets
 *   fewer, fresher events. Comments go out only on an idle stream. When what waits
 *   passes `maxQueuedBytes` while the response is backed up, the client gets a final
 *   comment and the stream ends; an EventSource reconnects with its Last-Event-ID.
 */
export function clientMessages(
  frames: Observable<SseFrame>,
  response: ServerResponse,
  pressure: WritePressure,
  bounds: ClientBounds,
  turns: SendTurns,
): Observable<MessageEvent> {
  return new Observable<MessageEvent>((subscriber) => {
    let backlog: readonly SseFrame[] = [];
    let sent = 0;
    const queue: LiveQueue = bounds.plain ? new SharedQueue() : new KeyedQueue();
    let subscribing = true;
    let asked = false;

    const emit = (frame: SseFrame) => {
      if (frame.message) subscriber.next(frame.message);
      else for (const part of frame.parts ?? []) emit(part);
    };
    const idle = () => sent >= backlog.length && queue.empty;
    const backedUp = () => pressure.backedUp;
    /** One page: the rest of the first batch first, then what waits, until the page is full or the response backs up. */
    const pump = (page: number): number => {
      asked = false;
      if (subscriber.closed) return 0;
      let budget = page;
      while (budget > 0 && !pressure.backedUp && sent < backlog.length) {
        const frame = backlog[sent++];
        emit(frame);
        budget -= frame.size;
      }
      if (sent >= backlog.length) backlog = [];
      if (sent >= backlog.length && budget > 0) budget -= queue.send(budget, emit, backedUp);
      // Backed up: 'drain' asks again. Else the page was full: go on in a coming turn.
      if (!idle() && !pressure.backedUp) ask();
      return page - budget;
    };
    const ask = () => {
      if (asked) return;
      asked = true;
      turns.request(pump);
    };
    const onDrain = () => {
      if (!idle()) ask();
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
        // A comment only goes out on an idle stream.
        if (frame.key === null && !frame.parts) return idle() && !pressure.backedUp ? emit(frame) : undefined;
        queue.add(frame);
        // Out in this turn's check phase, as far as the turn allows; the rest waits here, where newer states replace it.
        if (!pressure.backedUp) ask();
        // Only a client that stops reading is dropped: one that reads gets its queue a page a turn.
        if (queue.bytes > bounds.maxQueuedBytes && pressure.backedUp && queue.compact() > bounds.maxQueuedBytes) {
          backlog = [];
          emit(commentFrame('dropped: the client did not keep up; reconnect to resume'));
          subscriber.complete();
        }
      },
      error: (error) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
    subscribing = false;
    if (!subscriber.closed && !idle()) ask();
    return () => {
      subscription.unsubscribe();
      turns.cancel(pump);
      response.off('drain', onDrain);
    };
  });
}
