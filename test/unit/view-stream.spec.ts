import type { MessageEvent } from '@nestjs/common';
import { Subject } from 'rxjs';
import type { TaskData, TaskQuery } from '../../lib';
import type { TaskManager } from '../../lib/engine/task-manager.service';
import { AdminTuning, DEFAULT_ADMIN_TUNING } from '../../lib/options/admin-tuning';
import type { TaskScheduler } from '../../lib/schedule/task-scheduler.service';
import type { SseFrame } from '../../lib/stream/sse-frame';
import { TaskEventHub } from '../../lib/stream/task-event-hub';
import { isTerminal } from '../../lib/task/task-status';
import { blankTask } from '../support/task-data';

const TUNING: AdminTuning = { ...DEFAULT_ADMIN_TUNING, flushWindowMs: 50, viewBurstEvents: 3, viewResyncMs: 100, viewResyncMaxMs: 400 };

/** The engine as the hub sees it: changes, live tasks, records with the fields the filters read. */
class Engine {
  readonly taskChanges$ = new Subject<TaskData>();
  readonly stopping$ = new Subject<void>();
  /** The engine's direct change listener (TaskManager.onTaskChange), fed by the same changes. */
  onTaskChange(listener: (task: TaskData) => void): () => void {
    const subscription = this.taskChanges$.subscribe(listener);
    return () => subscription.unsubscribe();
  }
  private readonly tasks = new Map<string, TaskData>();

  toRecord(task: TaskData) {
    return {
      task_id: task.id,
      func_name: task.funcName,
      status: task.status,
      created_at: new Date(task.createdAt).toISOString(),
      tags: task.tags,
      error: task.error,
      logs: [...task.logs],
    };
  }
  liveTasks() {
    return [...this.tasks.values()].filter((t) => !isTerminal(t.status)).map((t) => this.toRecord(t));
  }
  /** A single instance here: no other instance's changes. */
  readonly remoteChanges$ = new Subject<TaskData>();
  followRemote(): void {}
  remoteLiveTasks() {
    return [];
  }
  async metrics() {
    return {};
  }
  /** A new task of `funcName`, or a change of `task`: stored and reported, as the engine does. */
  change(task: TaskData | string, overrides: Partial<TaskData> = {}): TaskData {
    const next = typeof task === 'string' ? blankTask({ funcName: task, ...overrides }) : { ...task, ...overrides };
    this.tasks.set(next.id, next);
    this.taskChanges$.next(next);
    return next;
  }
}

/** What one stream received, batches flattened: task events as [task id, status], named events by name. */
class Received {
  readonly messages: MessageEvent[] = [];
  readonly unsubscribe: () => void;
  constructor(hub: TaskEventHub, view?: { filter?: TaskQuery; task?: string }, lastEventId?: string) {
    const stream = hub.connect(lastEventId, view ? { filter: view.filter ?? {}, task: view.task ?? null } : undefined);
    const subscription = stream.subscribe((frame) => this.take(frame));
    this.unsubscribe = () => subscription.unsubscribe();
  }
  get changes(): [string, string][] {
    return this.messages
      .filter((m) => m.type === undefined)
      .map((m) => JSON.parse(m.data as string))
      .map((r) => [r.task_id, r.status]);
  }
  get ids(): number[] {
    return this.messages.filter((m) => m.type === undefined).map((m) => Number(m.id));
  }
  hints(): { latest_id: number; sent: number; omitted: number }[] {
    return this.messages.filter((m) => m.type === 'resync').map((m) => JSON.parse(m.data as string));
  }
  clear(): void {
    this.messages.length = 0;
  }
  private take(frame: SseFrame): void {
    if (frame.message) this.messages.push(frame.message);
    for (const part of frame.parts ?? []) this.take(part);
  }
}

describe('TaskEventHub view streams (a dashboard page: its filters, its detail task, resync under bursts)', () => {
  let engine: Engine;
  let hub: TaskEventHub;
  const flush = () => jest.advanceTimersByTime(TUNING.flushWindowMs);

  beforeEach(() => {
    jest.useFakeTimers();
    engine = new Engine();
    hub = new TaskEventHub(engine as unknown as TaskManager, TUNING, { schedules$: new Subject() } as unknown as TaskScheduler, {
      streamFirstBatchSize: 2,
    });
    hub.onModuleInit();
  });
  afterEach(() => {
    hub.close();
    jest.useRealTimers();
  });

  it('sends the changes of the tasks that match, every change to a plain stream meanwhile', () => {
    const plain = new Received(hub);
    const mailer = new Received(hub, { filter: { funcName: 'Mailer.send' } });
    const a = engine.change('Mailer.send');
    const b = engine.change('Billing.charge');
    flush();
    engine.change(b, { status: 'running' });
    engine.change(a, { status: 'running' });
    flush();
    expect(mailer.changes).toEqual([
      [a.id, 'pending'],
      [a.id, 'running'],
    ]);
    expect(plain.changes).toEqual([
      [a.id, 'pending'],
      [b.id, 'pending'],
      [b.id, 'running'],
      [a.id, 'running'],
    ]);
    // The same events, with the same ids.
    expect(mailer.ids).toEqual([plain.ids[0], plain.ids[3]]);
    expect(plain.ids).toEqual([0, 1, 2, 3].map((i) => plain.ids[0] + i));
  });

  it('sends a task leaving a status filter, then its later changes, but no task that never matched', () => {
    const running = new Received(hub, { filter: { status: 'running' } });
    const pending = new Received(hub, { filter: { status: 'pending' } });
    const a = engine.change('Job.run');
    const b = engine.change('Job.run');
    flush();
    const a1 = engine.change(a, { status: 'running' });
    flush();
    engine.change(a1, { status: 'running', logs: ['half way'] });
    flush();
    engine.change(a1, { status: 'success' });
    // b passes through running within one flush window: its one event (success) still leaves `running`.
    const b1 = engine.change(b, { status: 'running' });
    engine.change(b1, { status: 'success' });
    flush();
    expect(running.changes).toEqual([
      [a.id, 'running'],
      [a.id, 'running'],
      [a.id, 'success'],
      [b.id, 'success'],
    ]);
    // a left `pending` when it started: that change, and the ones after it, are sent (the row keeps its true state).
    expect(pending.changes).toEqual([
      [a.id, 'pending'],
      [b.id, 'pending'],
      [a.id, 'running'],
      [a.id, 'running'],
      [a.id, 'success'],
      [b.id, 'success'],
    ]);
    const failed = new Received(hub, { filter: { status: 'failed' } });
    const c = engine.change('Job.run');
    flush();
    engine.change(c, { status: 'success' });
    flush();
    expect(failed.changes).toEqual([]);
  });

  it("follows the detail panel's task whatever the filters", () => {
    const detail = engine.change('Report.build');
    flush();
    const view = new Received(hub, { filter: { status: 'failed' }, task: detail.id });
    expect(view.changes).toEqual([[detail.id, 'pending']]);
    engine.change('Report.build');
    engine.change(detail, { status: 'running' });
    flush();
    expect(view.changes).toEqual([
      [detail.id, 'pending'],
      [detail.id, 'running'],
    ]);
  });

  it('starts with the live tasks of the view; resync when some were left out or a Last-Event-ID was given', () => {
    const tasks = ['A.run', 'A.run', 'B.run', 'A.run'].map((name) => engine.change(name));
    flush();
    const b = new Received(hub, { filter: { funcName: 'B.run' } });
    expect(b.changes).toEqual([[tasks[2].id, 'pending']]);
    expect(b.hints()).toEqual([]);
    const a = new Received(hub, { filter: { funcName: 'A.run' } });
    expect(a.changes).toEqual([
      [tasks[0].id, 'pending'],
      [tasks[1].id, 'pending'],
    ]);
    const latest = b.ids[0] + 1;
    expect(a.hints()).toEqual([{ latest_id: latest, sent: 2, omitted: 1 }]);
    // A view stream replays nothing: a Last-Event-ID other than the latest is told to read the view again.
    expect(new Received(hub, { filter: { funcName: 'B.run' } }, String(latest - 2)).hints()).toEqual([{ latest_id: latest, sent: 1, omitted: 0 }]);
    expect(new Received(hub, { filter: { funcName: 'B.run' } }, String(latest)).hints()).toEqual([]);
  });

  it('sends one resync instead of a burst; what follows within the gap comes at its end, one by one or as one more resync', () => {
    const view = new Received(hub, { filter: { funcName: 'Bulk.run' } });
    const plain = new Received(hub);
    const burst = Array.from({ length: 4 }, () => engine.change('Bulk.run'));
    engine.change('Other.run');
    flush();
    expect(view.changes).toEqual([]);
    expect(view.hints()).toEqual([{ latest_id: plain.ids.at(-1), sent: 0, omitted: 4 }]);
    expect(plain.changes).toHaveLength(5);
    // Within the gap: withheld, even one change; at its end, few enough to go one by one.
    const running = engine.change(burst[0], { status: 'running' });
    flush();
    expect(view.changes).toEqual([]);
    jest.advanceTimersByTime(TUNING.viewResyncMs - TUNING.flushWindowMs);
    expect(view.changes).toEqual([[burst[0].id, 'running']]);
    expect(view.ids).toEqual([plain.ids.at(-1)]);
    expect(view.hints()).toHaveLength(1);
    // The burst is over: the next change goes at once.
    engine.change(running, { status: 'success' });
    flush();
    expect(view.changes.at(-1)).toEqual([burst[0].id, 'success']);
    // Another burst, and more than viewBurstEvents tasks' changes within its gap: one more resync at the gap's end.
    for (let i = 0; i < 4; i++) engine.change('Bulk.run');
    flush();
    expect(view.hints()).toHaveLength(2);
    for (const task of burst.slice(1)) engine.change(task, { status: 'running' });
    engine.change('Bulk.run');
    flush();
    jest.advanceTimersByTime(TUNING.viewResyncMs - TUNING.flushWindowMs);
    expect(view.hints()[2]).toEqual({ latest_id: plain.ids.at(-1), sent: 0, omitted: 4 });
    expect(view.changes).toHaveLength(2);
    view.unsubscribe();
    plain.unsubscribe();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('widens the gap while a burst lasts, up to viewResyncMaxMs', () => {
    const view = new Received(hub, { filter: { funcName: 'Bulk.run' } });
    const at: number[] = [];
    const start = Date.now();
    for (let t = 0; t < 3000; t += TUNING.flushWindowMs) {
      for (let i = 0; i < 4; i++) engine.change('Bulk.run');
      const before = view.hints().length;
      flush();
      if (view.hints().length > before) at.push(Date.now() - start);
    }
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    expect(gaps.slice(0, 10).every((g) => g === 100)).toBe(true);
    expect(gaps.slice(10, 13)).toEqual([200, 400, 400]);
    expect(view.changes).toEqual([]);
  });

  it('treats a task whose earlier states it never tracked as possibly leaving the filter', () => {
    const a = engine.change('Job.run');
    const b = engine.change('Job.run');
    flush();
    const a1 = engine.change(a, { status: 'running' });
    flush();
    // Opened now: the hub knows a and b, but not which statuses they held (nothing tracked them).
    const running = new Received(hub, { filter: { status: 'running' } });
    expect(running.changes).toEqual([[a.id, 'running']]);
    engine.change(b, { status: 'cancelled' });
    engine.change(a1, { status: 'success' });
    engine.change('Job.run');
    flush();
    expect(running.changes).toEqual([
      [a.id, 'running'],
      [b.id, 'cancelled'],
      [a.id, 'success'],
    ]);
  });
});
