import type { MessageEvent } from '@nestjs/common';

/**
 * One piece of an SSE stream, built once and shared by every client. `key` names
 * what a newer frame may replace while a client is backed up: the task id for task
 * events, the event name for named events, null for comments (dropped rather than
 * queued: a backed-up client has data waiting anyway). `size` is what it costs on
 * the wire, for the per-client bound. A batch carries several frames.
 */
export interface SseFrame {
  readonly message: MessageEvent | null;
  readonly size: number;
  readonly key: string | null;
  readonly parts?: readonly SseFrame[];
  /** Set once a newer frame of the same key went to every plain stream (see NewestFrames). */
  replaced?: boolean;
}

export function taskFrame(id: number, taskId: string, json: string): SseFrame {
  return frame({ id: String(id), data: json }, taskId);
}

/**
 * A named event. It carries the id of the latest task event: Nest numbers events
 * that have none with a counter of its own, which would clobber the client's Last-Event-ID.
 */
export function namedFrame(event: string, json: string, lastId: number): SseFrame {
  return frame({ type: event, id: String(lastId), data: json }, event);
}

export function commentFrame(comment: string): SseFrame {
  return frame({ comment: comment.replace(/[\r\n]+/g, ' ') }, null);
}

/** Several frames as one; a single frame stays as it is. */
export function batchFrame(frames: readonly SseFrame[]): SseFrame {
  if (frames.length === 1) return frames[0];
  return { message: null, size: frames.reduce((n, f) => n + f.size, 0), key: null, parts: frames };
}

function frame(message: MessageEvent, key: string | null): SseFrame {
  const text = `${message.type ?? ''}${message.id ?? ''}${typeof message.data === 'string' ? message.data : ''}${message.comment ?? ''}`;
  return { message, size: Buffer.byteLength(text) + 16, key };
}

export const KEEP_ALIVE: SseFrame = commentFrame('keep-alive');
