import type { MessageEvent } from '@nestjs/common';
import { Subject } from 'rxjs';
import type { TaskData } from '../../lib';
import type { TaskManager } from '../../lib/engine/task-manager.service';
import { AdminTuning, DEFAULT_ADMIN_TUNING } from '../../lib/options/admin-tuning';
import type { TaskScheduler } from '../../lib/schedule/task-scheduler.service';
import { SseFrame } from '../../lib/stream/sse-frame';
import { TaskEventHub } from '../../lib/stream/task-event-hub';
import { isTerminal } from '../../lib/task/task-status';
import { blankTask } from '../support/task-data';

const TUNING: AdminTuning = { ...DEFAULT_ADMIN_TUNING, flushWindowMs: 50, metricsIntervalMs: 1000, keepAliveMs: 15_000, replayBufferSize: 5 };

/** What the hub reads from the manager and the scheduler, and nothing more. */
class FakeManager {
  readonly taskChanges$ = new Subject<TaskData>();
  readonly remoteChanges$ = new Subject<TaskData>();
  readonly stopping$ = new Subject<void>();
  /** The engine's direct change listener (TaskManager.onTaskChange), fed by the same changes. */
  onTaskChange(listener: (task: TaskData) => void): () => void {
    const subscription = this.taskChanges$.subscribe(listener);
    return () => subscription.unsubscribe();
  }
  /** Unfinished tasks of other instances, as the change feed last brought them. */
  readonly remote = new Map<string, TaskData>();
  readonly tasks = new Map<string, TaskData>();
  metricsCalls = 0;

  toRecord(task: TaskData) {
    return { task_id: task.id, status: task.status, logs: [...task.logs] };
  }
  liveTasks() {
    return [...this.tasks.values()].filter((t) => !isTerminal(t.status)).map((t) => this.toRecord(t));
  }
  following = false;
  followRemote(on: boolean) {
    this.following = on;
  }
  remoteLiveTasks() {
    return [...this.remote.values()].filter((t) => !isTerminal(t.status)).map((t) => this.toRecord(t));
  }
  /** A change another instance made, as the change feed reports it. */
  remoteChange(task: TaskData): void {
    this.remote.set(task.id, task);
    this.remoteChanges$.next(task);
  }
  async metrics() {
    this.metricsCalls++;
    return { total: this.tasks.size };
  }
  /** Stores the task's new state and reports the change, as the engine does. */
  change(task: TaskData, overrides: Partial<TaskData> = {}): TaskData {
    const next = { ...task, ...overrides };
    this.tasks.set(next.id, next);
    this.taskChanges$.next(next);
    return next;
  }
}

/** Every message a client of the hub received, parts of batches flattened. */
class Client {
  readonly messages: MessageEvent[] = [];
  private readonly times: number[] = [];
  completed = false;
  private readonly subscription;

  constructor(hub: TaskEventHub, lastEventId?: string) {
    this.subscription = hub.connect(lastEventId).subscribe({
      next: (frame) => this.take(frame),
      complete: () => (this.completed = true),
    });
  }
  get tasks() {
    return this.messages
      .filter((m) => m.type === undefined && m.data !== undefined)
      .map((m) => ({ id: Number(m.id), ...JSON.parse(m.data as string) }));
  }
  named(type: string) {
    return this.messages.filter((m) => m.type === type);
  }
  /** When (fake clock) each message of `type` arrived. */
  receivedAt(type: string) {
    return this.messages.flatMap((m, i) => (m.type === type ? [this.times[i]] : []));
  }
  close() {
    this.subscription.unsubscribe();
  }
  private take(frame: SseFrame) {
    if (frame.message) {
      this.messages.push(frame.message);
      this.times.push(Date.now());
    }
    for (const part of frame.parts ?? []) this.take(part);
  }
}

describe('TaskEventHub (without Nest)', () => {
  let manager: FakeManager;
  let schedules$: Subject<unknown[]>;
  let hub: TaskEventHub;
  const start = (firstBatchSize = 1000, tuning: AdminTuning = TUNING) => {
    hub = new TaskEventHub(manager as unknown as TaskManager, tuning, { schedules$ } as unknown as TaskScheduler, {
      streamFirstBatchSize: firstBatchSize,
    });
    hub.onModuleInit();
    return hub;
  };

  beforeEach(() => {
    jest.useFakeTimers();
    manager = new FakeManager();
    schedules$ = new Subject();
  });
  afterEach(() => {
    hub?.close();
    jest.useRealTimers();
  });

  it('merges the changes of one task within a flush window into one event with its latest state', () => {
    start();
    const client = new Client(hub);
    const a = manager.change(blankTask());
    const b = manager.change(blankTask());
    manager.change(a, { status: 'running', logs: ['one'] });
    manager.change(a, { status: 'running', logs: ['one', 'two'] });
    jest.advanceTimersByTime(49);
    expect(client.tasks).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(client.tasks.map((t) => [t.task_id, t.status, t.logs.length])).toEqual([
      [a.id, 'running', 2],
      [b.id, 'pending', 0],
    ]);
    expect(client.tasks[1].id).toBe(client.tasks[0].id + 1);
    expect(hub.stats).toEqual({ changes: 4, events: 2, coalesced: 2, clients: 1 });
    // A later change is a later window and a later id.
    manager.change(b, { status: 'success' });
    jest.advanceTimersByTime(50);
    expect(client.tasks.at(-1)).toEqual(expect.objectContaining({ task_id: b.id, status: 'success', id: client.tasks[1].id + 1 }));
  });

  it('starts with every live task, each carrying the id of its latest event, oldest event first', () => {
    start();
    const a = manager.change(blankTask());
    const b = manager.change(blankTask());
    jest.advanceTimersByTime(50);
    manager.change(a, { status: 'running' });
    // Not flushed yet: connecting numbers it first, so the batch is up to date.
    const client = new Client(hub);
    expect(client.tasks.map((t) => [t.task_id, t.status])).toEqual([
      [b.id, 'pending'],
      [a.id, 'running'],
    ]);
    expect(client.tasks[1].id).toBe(client.tasks[0].id + 1);
    expect(client.named('resync')).toEqual([]);
  });

  it("numbers other instances' changes like its own, and lists their live tasks in the first batch", () => {
    start();
    const early = new Client(hub);
    const own = manager.change(blankTask());
    const remote = blankTask({ status: 'running', owner: 'other-host/1/abc' });
    manager.remoteChange(remote);
    manager.remoteChange({ ...remote, logs: ['half way'], progress: 0.5 });
    jest.advanceTimersByTime(50);
    expect(early.tasks.map((t) => [t.task_id, t.status, t.logs])).toEqual([
      [own.id, 'pending', []],
      [remote.id, 'running', ['half way']],
    ]);
    const late = new Client(hub);
    expect(late.tasks.map((t) => [t.task_id, t.id])).toEqual(early.tasks.map((t) => [t.task_id, t.id]));
    // Finished elsewhere: an event, and no longer in a first batch.
    manager.remoteChange({ ...remote, status: 'success' });
    jest.advanceTimersByTime(50);
    expect(early.tasks.at(-1)).toMatchObject({ task_id: remote.id, status: 'success' });
    expect(new Client(hub).tasks.map((t) => t.task_id)).toEqual([own.id]);
  });

  it("follows other instances' changes only while a client is connected", () => {
    start();
    expect(manager.following).toBe(false);
    const one = hub.connect().subscribe();
    const two = hub.connect().subscribe();
    expect(manager.following).toBe(true);
    one.unsubscribe();
    expect(manager.following).toBe(true);
    two.unsubscribe();
    expect(manager.following).toBe(false);
  });

  it('bounds the first batch: the oldest tasks, then a resync event; one batch shared while nothing changes', () => {
    start(2);
    const tasks = [blankTask(), blankTask(), blankTask()].map((t) => manager.change(t));
    jest.advanceTimersByTime(50);
    const frames: SseFrame[] = [];
    hub.connect().subscribe((f) => frames.push(f));
    hub.connect().subscribe((f) => frames.push(f));
    expect(frames).toHaveLength(2);
    expect(frames[1].parts).toBe(frames[0].parts);

    const client = new Client(hub);
    expect(client.tasks.map((t) => t.task_id)).toEqual([tasks[0].id, tasks[1].id]);
    const [hint] = client.named('resync');
    const latest = client.tasks[1].id + 1;
    expect(JSON.parse(hint.data as string)).toEqual({ latest_id: latest, sent: 2, omitted: 1 });
    expect(hint.id).toBe(String(latest));

    manager.change(tasks[0], { status: 'success' });
    jest.advanceTimersByTime(50);
    const after = new Client(hub);
    expect(after.tasks.map((t) => t.task_id)).toEqual([tasks[1].id, tasks[2].id]);
    expect(after.named('resync')).toEqual([]);
    // A task that did not change keeps its frame from one batch to the next.
    const rebuilt: SseFrame[] = [];
    hub.connect().subscribe((f) => rebuilt.push(f));
    expect(rebuilt[0].parts![0]).toBe(frames[0].parts![1]);
  });

  it('resumes after a buffered Last-Event-ID with exactly the later events, else sends the first batch', () => {
    start();
    const witness = new Client(hub);
    const a = manager.change(blankTask());
    jest.advanceTimersByTime(50);
    manager.change(a, { status: 'running' });
    jest.advanceTimersByTime(50);
    const b = manager.change(blankTask());
    jest.advanceTimersByTime(50);
    const [first, ...later] = witness.tasks;

    expect(new Client(hub, String(first.id)).tasks).toEqual(later);
    expect(new Client(hub, ` ${first.id} `).tasks).toEqual(later);
    expect(new Client(hub, String(later[1].id)).tasks).toEqual([]);
    const liveBatch = [expect.objectContaining({ task_id: a.id, status: 'running' }), expect.objectContaining({ task_id: b.id })];
    for (const unknown of ['abc', '1', String(later[1].id + 1), '-3', '']) expect(new Client(hub, unknown).tasks).toEqual(liveBatch);

    // Pushed out of the buffer (5 events): the first batch again.
    for (let i = 0; i < 5; i++) {
      manager.change(blankTask(), { status: 'success' });
      jest.advanceTimersByTime(50);
    }
    expect(new Client(hub, String(first.id)).tasks).toEqual(liveBatch);
  });

  it('sends metrics at most once per interval and only after a change; keep-alives only while clients are connected', async () => {
    start();
    const client = new Client(hub);
    await jest.advanceTimersByTimeAsync(5000);
    expect(client.named('metrics')).toEqual([]);
    for (let i = 0; i < 5; i++) {
      manager.change(blankTask());
      await jest.advanceTimersByTimeAsync(100);
    }
    await jest.advanceTimersByTimeAsync(5000);
    // Changes over 450 ms: one metrics event after the first flush, one a second later with the rest.
    expect(client.named('metrics').map((m) => JSON.parse(m.data as string))).toEqual([{ total: 1 }, { total: 5 }]);
    const [at1, at2] = client.receivedAt('metrics');
    expect(at2 - at1).toBeGreaterThanOrEqual(1000);
    expect(client.named('metrics')[1].id).toBe(String(client.tasks.at(-1)!.id));
    expect(manager.metricsCalls).toBe(2);

    const keepAlives = () => client.messages.filter((m) => m.comment === 'keep-alive').length;
    const before = keepAlives();
    await jest.advanceTimersByTimeAsync(30_000);
    expect(keepAlives()).toBe(before + 2);
    client.close();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('sends schedule changes to connected clients and completes every stream on close', () => {
    start();
    const client = new Client(hub);
    schedules$.next([{ func_name: 'Nightly.run' }]);
    expect(JSON.parse(client.named('schedules')[0].data as string)).toEqual([{ func_name: 'Nightly.run' }]);
    manager.stopping$.next();
    expect(client.completed).toBe(true);
    expect(hub.isClosed).toBe(true);
    expect(new Client(hub).completed).toBe(true);
  });
});
