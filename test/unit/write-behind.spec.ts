import { Logger } from '@nestjs/common';
import { newTask } from '../../lib/engine/task-factory';
import { ownLogs } from '../../lib/engine/task-log-buffer';
import { MemoryTaskBackend } from '../../lib/storage/memory-task.backend';
import { MemoryTaskStore } from '../../lib/storage/memory-task.store';
import { LIVE_WRITE_MS, WriteBehind } from '../../lib/storage/write-behind';
import { TaskData } from '../../lib/task/task-record';

const INTERVAL_MS = 60_000;

/** A backend whose saveBatch is recorded and can be made to fail (a database outage). */
class RecordingBackend extends MemoryTaskBackend {
  readonly batches: TaskData[][] = [];
  down = false;
  attempts = 0;

  constructor() {
    super(new MemoryTaskStore(10));
  }

  override async saveBatch(tasks: readonly TaskData[]): Promise<void> {
    this.attempts++;
    if (this.down) throw new Error('connection refused');
    this.batches.push([...tasks]);
  }

  written(): string[] {
    return this.batches.flat().map((t) => `${t.id.slice(0, 4)}:${t.status}`);
  }
}

function task(status: TaskData['status'] = 'pending', version = 1): TaskData {
  const t = newTask('fn', [], {}, { priority: null, source: 'manual', durable: false });
  t.status = status;
  t.version = version;
  return t;
}

const tag = (t: TaskData) => `${t.id.slice(0, 4)}:${t.status}`;

describe('WriteBehind', () => {
  let backend: RecordingBackend;
  let writer: WriteBehind;

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn']));

  beforeEach(() => {
    jest.useFakeTimers({ now: Date.parse('2026-05-01T00:00:00Z') });
    backend = new RecordingBackend();
    writer = new WriteBehind(backend, INTERVAL_MS);
  });

  afterEach(async () => {
    backend.down = false;
    await writer.stop(0);
    jest.useRealTimers();
  });

  it('whenWritten resolves once the batch holding the task committed, in the same group commit as other changes', async () => {
    const a = task();
    const b = task();
    writer.changed(a);
    let written = false;
    const done = writer.whenWritten(b).then(() => (written = true));
    await jest.advanceTimersByTimeAsync(5);
    expect(written).toBe(false);
    await jest.advanceTimersByTimeAsync(10);
    await done;
    expect(backend.batches.map((batch) => batch.map(tag))).toEqual([[tag(a), tag(b)]]);
  });

  it('withdraw drops a queued first write while the database fails: it is never written', async () => {
    backend.down = true;
    const a = task();
    void writer.whenWritten(a);
    await jest.advanceTimersByTimeAsync(15);
    expect(backend.attempts).toBe(1);
    expect(writer.withdraw(a, () => undefined)).toBe(true);
    backend.down = false;
    await jest.advanceTimersByTimeAsync(60_000);
    await writer.flush();
    expect(backend.written()).toEqual([]);
  });

  it('withdraw of a task whose batch is in flight: lateCommit runs when the batch fails too (it may have committed)', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const save = backend.saveBatch.bind(backend);
    backend.saveBatch = async (tasks) => {
      await held;
      backend.down = true;
      return save(tasks);
    };
    const a = task();
    void writer.whenWritten(a);
    await jest.advanceTimersByTimeAsync(15);
    let told = 0;
    expect(writer.withdraw(a, () => told++)).toBe(false);
    release();
    await jest.advanceTimersByTimeAsync(0);
    expect(told).toBe(1);
    // Not requeued as it was: the lateCommit's own record is what gets written.
    backend.down = false;
    backend.saveBatch = save;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(backend.written()).toEqual([]);
  });

  it('writes new tasks together in one batch after the group-commit window', async () => {
    const a = task();
    const b = task();
    writer.changed(a);
    writer.changed(b);
    await jest.advanceTimersByTimeAsync(9);
    expect(backend.batches).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(backend.batches.map((batch) => batch.map(tag))).toEqual([[tag(a), tag(b)]]);
    expect(writer.backlog).toBe(0);
  });

  it('clears uncounted where it was set, and adds it to no record that lacked it (a property store per record)', async () => {
    const plain = task('success');
    const inTransaction = task('success');
    inTransaction.uncounted = true;
    writer.changed(plain);
    writer.changed(inTransaction);
    await jest.advanceTimersByTimeAsync(10);
    expect(backend.batches).toHaveLength(1);
    expect(inTransaction.uncounted).toBe(false);
    expect(Object.keys(plain)).toEqual(Object.keys(task()));
  });

  it('writes a snapshot: later changes to the live object do not alter what was handed over', async () => {
    const a = task();
    writer.changed(a);
    await jest.advanceTimersByTimeAsync(10);
    a.status = 'running';
    expect(backend.batches[0][0]).not.toBe(a);
    expect(backend.batches[0][0].status).toBe('pending');
  });

  it("writes a running task's changes within LIVE_WRITE_MS, coalesced, a finish promptly, and holds the rest for the snapshot interval", async () => {
    const a = task('running', 3);
    writer.changed(a);
    await jest.advanceTimersByTimeAsync(LIVE_WRITE_MS / 2);
    ownLogs(a).push('a line');
    a.version++;
    writer.changed(a);
    await jest.advanceTimersByTimeAsync(LIVE_WRITE_MS / 2 - 1);
    expect(backend.batches).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(backend.batches.map((batch) => batch.map((t) => [t.status, t.logs.length]))).toEqual([[['running', 1]]]);
    a.status = 'success';
    a.version++;
    writer.changed(a);
    await jest.advanceTimersByTimeAsync(10);
    expect(backend.written()).toEqual([`${a.id.slice(0, 4)}:running`, tag(a)]);
    // A pending task changed after its first write (an owner handed back, say) waits for the interval.
    const b = task('pending', 2);
    writer.changed(b);
    await jest.advanceTimersByTimeAsync(INTERVAL_MS - 1);
    expect(backend.written()).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(backend.written()).toEqual([`${a.id.slice(0, 4)}:running`, tag(a), tag(b)]);
  });

  it('keeps changes during an outage, retries with back-off, and writes everything once the database is back', async () => {
    backend.down = true;
    const a = task();
    writer.changed(a);
    await jest.advanceTimersByTimeAsync(10);
    expect(backend.attempts).toBe(1);
    expect(writer.healthy).toBe(false);
    // A prompt change while failing does not pull the retry forward.
    const b = task('success', 2);
    writer.changed(b);
    await jest.advanceTimersByTimeAsync(499);
    expect(backend.attempts).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(backend.attempts).toBe(2);
    // Second failure: the next try is 1 s later.
    await jest.advanceTimersByTimeAsync(999);
    expect(backend.attempts).toBe(2);
    backend.down = false;
    await jest.advanceTimersByTimeAsync(1);
    expect(backend.attempts).toBe(3);
    expect(backend.written().sort()).toEqual([tag(a), tag(b)].sort());
    expect(writer.healthy).toBe(true);
    expect(writer.backlog).toBe(0);
  });

  it('flush() resolves once what is queued is written, and rejects while the database is down', async () => {
    const a = task('running', 4);
    writer.changed(a);
    // flush() writes at once (a 0 ms timer), not after the snapshot interval.
    const flushed = writer.flush();
    await jest.advanceTimersByTimeAsync(0);
    await flushed;
    expect(backend.written()).toEqual([tag(a)]);
    await expect(writer.flush()).resolves.toBeUndefined();

    backend.down = true;
    writer.changed(task());
    const failed = expect(writer.flush()).rejects.toThrow('connection refused');
    await jest.advanceTimersByTimeAsync(0);
    await failed;
    expect(writer.backlog).toBe(1);
  });

  it('stop() writes what is left, and gives up after its deadline when the database stays down', async () => {
    const a = task('running', 5);
    writer.changed(a);
    await writer.stop(1_000);
    expect(backend.written()).toEqual([tag(a)]);

    const other = new WriteBehind(backend, INTERVAL_MS);
    backend.down = true;
    other.changed(task());
    const stopped = other.stop(2_000);
    let done = false;
    void stopped.then(() => (done = true));
    await jest.advanceTimersByTimeAsync(1_500);
    expect(done).toBe(false);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(done).toBe(true);
    expect(other.backlog).toBe(1);
    // Stopped: a change no longer schedules a write.
    const attempts = backend.attempts;
    backend.down = false;
    other.changed(task());
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(backend.attempts).toBe(attempts);
  });

  describe('the order of a batch, when more is queued than one holds (5,000)', () => {
    const status = (batch: readonly TaskData[]) => batch.reduce<Record<string, number>>((n, t) => ({ ...n, [t.status]: (n[t.status] ?? 0) + 1 }), {});

    it("writes started tasks' changes ahead of a burst of new tasks' first rows, which keep a tenth of each batch", async () => {
      const burst = Array.from({ length: 7200 }, () => task('pending'));
      for (const t of burst) writer.changed(t);
      const finished = Array.from({ length: 3600 }, () => task('success', 3));
      for (const t of finished) writer.changed(t);
      await jest.advanceTimersByTimeAsync(10);
      // In queue order the first two batches held only first rows (and the start gate kept the engine idle meanwhile).
      expect(status(backend.batches[0])).toEqual({ success: 2700, pending: 300 });
      expect(status(backend.batches[1])).toEqual({ success: 900, pending: 2100 });
      expect(backend.batches.flat()).toHaveLength(10_800);
      expect(new Set(backend.batches.flat().map((t) => t.id)).size).toBe(10_800);
      // The first rows that waited came in queue order.
      expect(backend.batches[0].filter((t) => t.status === 'pending').map((t) => t.id)).toEqual(burst.slice(0, 300).map((t) => t.id));
    });

    it('writes first rows a caller awaits (durable enqueue) ahead of both', async () => {
      for (let i = 0; i < 3600; i++) writer.changed(task('pending'));
      for (let i = 0; i < 3600; i++) writer.changed(task('success', 3));
      const awaited = task();
      let written = false;
      const done = writer.whenWritten(awaited).then(() => (written = true));
      await jest.advanceTimersByTimeAsync(10);
      await done;
      expect(written).toBe(true);
      expect(backend.batches[0][0].id).toBe(awaited.id);
    });

    it('a task that starts before its first row is taken is written once, started', async () => {
      const burst = Array.from({ length: 3600 }, () => task('pending'));
      for (const t of burst) writer.changed(t);
      const last = burst[3599];
      last.status = 'success';
      last.version = 3;
      writer.changed(last);
      await jest.advanceTimersByTimeAsync(10);
      const rows = backend.batches.flat().filter((t) => t.id === last.id);
      expect(rows.map((t) => t.status)).toEqual(['success']);
      expect(backend.batches[0].map((t) => t.id)).toContain(last.id);
    });
  });

  describe('the start gate (maxBacklog)', () => {
    let gated: WriteBehind;
    beforeEach(() => (gated = new WriteBehind(backend, INTERVAL_MS, undefined, undefined, 2)));
    afterEach(() => gated.stop(0));

    it('counts started tasks only, the batch in flight included, and wakes once a commit made room', async () => {
      const woken: string[] = [];
      for (let i = 0; i < 5; i++) gated.changed(task('pending'));
      expect(gated.hasRoom(() => woken.push('a'))).toBe(true);
      gated.changed(task('running', 2));
      gated.changed(task('success', 3));
      expect(gated.startedBacklog).toBe(2);
      expect(gated.hasRoom(() => woken.push('a'))).toBe(false);
      backend.down = true;
      await jest.advanceTimersByTimeAsync(10);
      // Failed and queued again: still counted, nobody woken.
      expect(backend.attempts).toBe(1);
      expect(gated.startedBacklog).toBe(2);
      expect(woken).toEqual([]);
      backend.down = false;
      await jest.advanceTimersByTimeAsync(500);
      expect(gated.backlog).toBe(0);
      expect(gated.startedBacklog).toBe(0);
      expect(woken).toEqual(['a']);
      expect(gated.hasRoom(() => woken.push('b'))).toBe(true);
    });

    it('a task handed back as pending leaves the count; stop() wakes everyone waiting', async () => {
      const a = task('running', 2);
      gated.changed(a);
      gated.changed(task('failed', 2));
      const woken: string[] = [];
      expect(gated.hasRoom(() => woken.push('x'))).toBe(false);
      a.status = 'pending';
      gated.changed(a);
      expect(gated.startedBacklog).toBe(1);
      gated.changed(task('running', 2));
      expect(gated.hasRoom(() => woken.push('y'))).toBe(false);
      backend.down = true;
      await gated.stop(0);
      expect(woken.sort()).toEqual(['x', 'y']);
      expect(gated.hasRoom(() => woken.push('z'))).toBe(true);
    });
  });
});
