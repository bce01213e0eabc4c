/**
 * What scenario 5's clients share: an SSE connection read as events, and the delivery
 * lag of a record, measured against the server's own timestamp of the change that
 * produced the state it carries: `created_at` for pending, `start_time` for running,
 * `end_time` for a finished task (set by the engine at the change, ms precision; the
 * same machine clock).
 */
import http from 'node:http';
import { wallMs } from '../common';

export interface SseEvent {
  event?: string;
  id?: string;
  data?: string;
}

const STATUS = /"status":"(\w+)"/;
const CREATED = /"created_at":"([^"]+)"/;
const STARTED = /"start_time":"([^"]+)"/;
const ENDED = /"end_time":"([^"]+)"/;

/** The status of a record's JSON and the epoch ms of the change it carries, without parsing it all. */
export function changeOf(json: string): { status: string; at: number } | null {
  const status = STATUS.exec(json)?.[1];
  if (!status) return null;
  const stamp = status === 'pending' ? CREATED.exec(json) : status === 'running' ? STARTED.exec(json) : ENDED.exec(json);
  return stamp ? { status, at: Date.parse(stamp[1]) } : null;
}

/**
 * Opens `url` as an SSE stream; resolves once its headers arrived. `onEvent` gets each
 * event (comments skipped) and its arrival time. Parsing is kept cheap (the clients of
 * a run share one process, whose own delays would count as lag): a task event is
 * `id:` + `data:`, only named events are split into fields.
 */
export function openStream(url: string, onEvent: (event: SseEvent, at: number) => void, onBytes: (n: number) => void): Promise<void> {
  let buffer = '';
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { Accept: 'text/event-stream' }, agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const at = wallMs();
        onBytes(chunk.length);
        buffer += chunk;
        let start = 0;
        let end: number;
        while ((end = buffer.indexOf('\n\n', start)) >= 0) {
          const block = buffer.slice(start, end);
          start = end + 2;
          if (block.charCodeAt(0) === 58 /* ':' a comment */) continue;
          if (block.startsWith('event:') || block.includes('\nevent:')) onEvent(named(block), at);
          else {
            const data = block.indexOf('data: ');
            if (data >= 0) onEvent({ data: block.slice(data + 6) }, at);
          }
        }
        buffer = buffer.slice(start);
      });
      resolve();
    });
    req.on('error', reject);
  });
}

function named(block: string): SseEvent {
  const event: SseEvent = {};
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    const value = line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
    const field = line.slice(0, colon);
    if (field === 'event') event.event = value;
    else if (field === 'id') event.id = value;
    else if (field === 'data') event.data = value;
  }
  return event;
}
