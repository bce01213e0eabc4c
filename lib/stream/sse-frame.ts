/**
 * One piece of an SSE stream, encoded once and shared by every client (the same
 * Buffer is handed to every socket). `key` names what a newer frame may replace
 * while a client is backed up: the task id for task events, the event name for
 * named events, null for comments (dropped rather than queued: a backed-up client
 * has data waiting anyway). A batch carries several frames as one buffer, written
 * with one call; a backed-up client queues its parts one by one.
 */
export interface SseFrame {
  readonly bytes: Buffer;
  readonly key: string | null;
  readonly parts?: readonly SseFrame[];
}

export function taskFrame(id: number, taskId: string, json: string): SseFrame {
  return { bytes: Buffer.from(`id: ${id}\ndata: ${json}\n\n`), key: taskId };
}

export function namedFrame(event: string, json: string): SseFrame {
  return { bytes: Buffer.from(`event: ${event}\ndata: ${json}\n\n`), key: event };
}

export function commentFrame(comment: string): SseFrame {
  return { bytes: Buffer.from(`: ${comment.replace(/[\r\n]+/g, ' ')}\n\n`), key: null };
}

/** Several frames as one write; a single frame stays as it is. */
export function batchFrame(frames: readonly SseFrame[]): SseFrame {
  if (frames.length === 1) return frames[0];
  return { bytes: Buffer.concat(frames.map((f) => f.bytes)), key: null, parts: frames };
}

export const KEEP_ALIVE: SseFrame = commentFrame('keep-alive');
