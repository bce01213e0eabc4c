import http from 'node:http';
import { TaskEventHub } from '../../lib/stream/task-event-hub';
import { HttpApp, createHttpApp, gate } from '../support/http-app';
import { describeEachPlatform } from '../support/http-platforms';

/** The fifteen keys of a record, in the contract's order. */
const RECORD_KEYS = [
  'task_id',
  'func_name',
  'status',
  'created_at',
  'start_time',
  'end_time',
  'duration',
  'retries_used',
  'error',
  'logs',
  'stacktrace',
  'tags',
  'source',
  'priority',
  'executor',
];
const STAGE: Record<string, number> = { pending: 0, running: 1, success: 2 };

interface WireEvent {
  id: number;
  event?: string;
  record?: { task_id: string; status: string };
}

/** A plain stream read as bytes, so that the test sees exactly what the wire carries. */
class RawStream {
  /** Task events and success states received whole so far. */
  counts = { tasks: 0, successes: 0 };
  private readonly chunks: string[] = [];
  /** What came after the last whole event. */
  private rest = '';
  private waiter: (() => void) | null = null;
  private constructor(readonly response: http.IncomingMessage) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      this.chunks.push(chunk);
      const text = this.rest + chunk;
      const whole = text.lastIndexOf('\n\n');
      if (whole >= 0) {
        const fresh = text.slice(0, whole);
        this.counts.tasks += fresh.split('\ndata: {"task_id"').length - 1;
        this.counts.successes += fresh.split('"status":"success"').length - 1;
      }
      this.rest = text.slice(whole + 1);
      this.waiter?.();
    });
  }

  get text(): string {
    return this.chunks.join('');
  }

  static open(url: string, paused = false): Promise<RawStream> {
    return new Promise((resolve, reject) => {
      http
        .get(url, { agent: false, headers: { Accept: 'text/event-stream' } }, (response) => {
          const stream = new RawStream(response);
          if (paused) response.pause();
          resolve(stream);
        })
        .on('error', reject);
    });
  }

  /** Resolves once `done` holds for the counts so far (checked on each chunk); fails after `timeoutMs`. */
  async until(done: (counts: RawStream['counts']) => boolean, timeoutMs = 30_000): Promise<void> {
    let late = false;
    const deadline = setTimeout(() => {
      late = true;
      this.waiter?.();
    }, timeoutMs);
    try {
      while (!done(this.counts)) {
        if (late) throw new Error(`timed out; read ${this.text.length} characters`);
        await new Promise<void>((resolve) => (this.waiter = resolve));
      }
    } finally {
      clearTimeout(deadline);
      this.waiter = null;
    }
  }

  close(): void {
    this.response.destroy();
  }

  /**
   * The events, checked against the contract: after the opening newline, blocks of
   * `id:` + `data:` (a task event: no name, one line of JSON with the record's keys in
   * order) or `event:` + `id:` + `data:` (a named event), or comments; ids never go back.
   */
  events(): WireEvent[] {
    const text = this.text;
    expect(text.charAt(0)).toBe('\n');
    // The events received whole so far.
    const blocks = text.slice(1, text.lastIndexOf('\n\n')).split('\n\n');
    const events: WireEvent[] = [];
    let lastTaskId = 0;
    for (const block of blocks) {
      if (block.startsWith(':')) continue;
      const task = /^id: (\d+)\ndata: (\{[^\n]*\})$/.exec(block);
      if (task) {
        const id = Number(task[1]);
        const record = JSON.parse(task[2]) as Record<string, unknown>;
        expect(Object.keys(record).slice(0, RECORD_KEYS.length)).toEqual(RECORD_KEYS);
        expect(id).toBeGreaterThan(lastTaskId);
        lastTaskId = id;
        events.push({ id, record: record as unknown as WireEvent['record'] });
        continue;
      }
      const named = /^event: (\w+)\nid: (\d+)\ndata: ([^\n]*)$/.exec(block);
      if (!named) throw new Error(`not an event of the contract: ${block.slice(0, 200)}`);
      expect(Number(named![2])).toBeGreaterThanOrEqual(lastTaskId);
      events.push({ id: Number(named![2]), event: named![1] });
    }
    return events;
  }
}

/** Whether `n` success states were received. */
const allDone = (n: number) => (counts: RawStream['counts']) => counts.successes >= n;

/**
 * A burst to plain streams: every client gets the SPEC's format, byte for byte, and
 * every task's end state; a client that fell behind gets the latest state of each task
 * waiting for it, not every state in between (ids still increasing).
 */
describeEachPlatform('SSE stream under a burst', (platform) => {
  let h: HttpApp;
  let stream: string;

  beforeAll(async () => {
    h = await createHttpApp(
      { maxConcurrentTasks: 20, displayFuncArgs: true },
      { platform, tuning: { flushWindowMs: 20, metricsIntervalMs: 60_000, keepAliveMs: 60_000, maxClientQueueBytes: 256 * 1024 * 1024 } },
    );
    stream = `${h.url}/tasks/dashboard/stream`;
  });
  afterAll(() => h.close());

  it('sends every reading client each change of a 2,000-task burst in the contract format, 0 lost', async () => {
    const clients = await Promise.all(Array.from({ length: 5 }, () => RawStream.open(stream)));
    try {
      const ids = Array.from({ length: 2000 }, (_, i) => h.manager.addTask('Jobs.ok', [`burst-${i}`]));
      await h.manager.drain();
      for (const client of clients) {
        await client.until(allDone(ids.length));
        const events = client.events();
        const byTask = new Map<string, string[]>();
        for (const { record } of events) if (record) byTask.set(record.task_id, [...(byTask.get(record.task_id) ?? []), record.status]);
        expect([...byTask.keys()].sort()).toEqual([...ids].sort());
        for (const statuses of byTask.values()) {
          // Each task's states in their order, ending with its success.
          expect(statuses.at(-1)).toBe('success');
          for (let i = 1; i < statuses.length; i++) expect(STAGE[statuses[i]]).toBeGreaterThanOrEqual(STAGE[statuses[i - 1]]);
        }
      }
    } finally {
      for (const client of clients) client.close();
    }
  }, 120_000);

  it('sends a client that stopped reading the latest state of each task waiting for it, in the contract format', async () => {
    const hub = h.app.get(TaskEventHub);
    const paused = await RawStream.open(stream, true);
    const reading = await RawStream.open(stream);
    try {
      const before = hub.stats.events;
      // ~40 MB of events, more than the kernel's socket buffers hold for the paused client:
      // each task's first state, numbered before any of them can finish, then its success.
      const big = 'x'.repeat(64 * 1024);
      const keys = Array.from({ length: 300 }, (_, i) => `${platform}-${i}-${big}`);
      const ids = keys.map((key) => h.manager.addTask('Jobs.hold', [key]));
      await reading.until((counts) => counts.tasks >= ids.length, 60_000);
      for (const key of keys) gate(key).open();
      await h.manager.drain();
      await reading.until(allDone(ids.length), 60_000);
      const numbered = hub.stats.events - before;
      paused.response.resume();
      await paused.until(allDone(ids.length), 60_000);
      const events = paused.events().filter((e) => e.record);
      expect(new Set(events.filter((e) => e.record!.status === 'success').map((e) => e.record!.task_id))).toEqual(new Set(ids));
      expect(numbered).toBeGreaterThanOrEqual(2 * ids.length);
      // Fewer events than the hub numbered: those that waited were replaced by newer states of their task.
      expect(events.length).toBeLessThan(numbered);
      expect(reading.events().filter((e) => e.record).length).toBeLessThanOrEqual(numbered);
    } finally {
      paused.close();
      reading.close();
    }
  }, 120_000);
});
