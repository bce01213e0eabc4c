import http from 'node:http';

/** One parsed SSE item: an event (id/event/data) or a comment line. */
export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/**
 * A minimal SSE reader over http.get, parsing the raw stream as the WHATWG spec
 * says (fields, one optional space after the colon, blank line dispatches,
 * comments reported as `{comment}`). Waits are event-driven with a failure bound.
 */
export class SseReader {
  readonly events: SseEvent[] = [];
  bytes = 0;
  ended = false;
  private buffer = '';
  private current: SseEvent = {};
  private waiters: (() => void)[] = [];
  private cursor = 0;

  private constructor(
    readonly response: http.IncomingMessage,
    private readonly request: http.ClientRequest,
  ) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      this.bytes += Buffer.byteLength(chunk);
      this.feed(chunk);
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    response.on('end', end);
    response.on('close', end);
    response.on('error', end);
  }

  /** Connects; resolves with the reader once the response headers arrived (any status). */
  static open(url: string, headers: Record<string, string> = {}, options: { paused?: boolean } = {}): Promise<SseReader> {
    return new Promise((resolve, reject) => {
      const request = http.get(url, { headers: { Accept: 'text/event-stream', ...headers }, agent: false }, (response) => {
        const reader = new SseReader(response, request);
        if (options.paused) response.pause();
        resolve(reader);
      });
      request.on('error', reject);
    });
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  get headers(): http.IncomingHttpHeaders {
    return this.response.headers;
  }

  /** The next item not yet taken by next()/waitFor(). */
  async next(timeoutMs = 5000): Promise<SseEvent> {
    return this.waitFor(() => true, timeoutMs);
  }

  /** The next item matching `predicate`, skipping (consuming) the others. */
  async waitFor(predicate: (event: SseEvent) => boolean, timeoutMs = 5000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.events.length) {
        const event = this.events[this.cursor++];
        if (predicate(event)) return event;
      }
      if (this.ended) throw new Error(`SSE stream ended while waiting; last: ${this.describeLast()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out waiting for an SSE event; last: ${this.describeLast()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The next task event of task `id` whose record matches `match` (skipping the others). */
  async waitForTask(id: string, match: (record: Record<string, unknown>) => boolean, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const event = await this.waitFor((e) => {
      if (e.data === undefined || e.event !== undefined) return false;
      const record = JSON.parse(e.data) as Record<string, unknown>;
      return record.task_id === id && match(record);
    }, timeoutMs);
    return JSON.parse(event.data!) as Record<string, unknown>;
  }

  /** Task events (no event name, JSON data) taken so far and pending, parsed. */
  taskEvents(): { id: string; record: { task_id: string; status: string; [key: string]: unknown } }[] {
    return this.events.filter((e) => e.data !== undefined && e.event === undefined).map((e) => ({ id: e.id!, record: JSON.parse(e.data!) }));
  }

  /** Resolves when the server ends the stream. */
  async waitForEnd(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('Timed out waiting for the SSE stream to end');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Starts reading a stream opened with `paused`. */
  resume(): void {
    this.response.resume();
  }

  close(): void {
    this.request.destroy();
    this.response.destroy();
  }

  private describeLast(): string {
    return JSON.stringify(this.events.slice(-5).map((e) => ({ ...e, data: e.data && e.data.length > 200 ? `${e.data.slice(0, 200)}...` : e.data })));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, newline);
      const width = this.buffer.startsWith('\r\n', newline) ? 2 : 1;
      this.buffer = this.buffer.slice(newline + width);
      this.line(line);
    }
    this.wake();
  }

  private line(line: string): void {
    if (line === '') {
      if (this.current.data !== undefined || this.current.event !== undefined || this.current.id !== undefined) {
        this.events.push(this.current);
      }
      this.current = {};
      return;
    }
    if (line.startsWith(':')) {
      this.events.push({ comment: line.slice(1).replace(/^ /, '') });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') this.current.data = this.current.data === undefined ? value : `${this.current.data}\n${value}`;
    else if (field === 'id') this.current.id = value;
    else if (field === 'event') this.current.event = value;
  }
}
