import { RegisteredTask, TaskDefinition } from '../../lib/discovery/registered-task';
import { enableTaskContext, getTaskContext } from '../../lib/engine/task-context';
import { ExecutionHooks, TaskExecution } from '../../lib/engine/task-execution';
import { newTask } from '../../lib/engine/task-factory';
import { TaskData } from '../../lib/task/task-record';

/** What the execution reported, in order. */
class RecordingHooks implements ExecutionHooks {
  readonly events: string[] = [];
  changed(task: TaskData): void {
    this.events.push(`changed:${task.status}`);
  }
  settled(task: TaskData, attempt: number): void {
    this.events.push(`settled:${task.status}@${attempt}`);
  }
  log(_task: TaskData, level: string, message: string): void {
    this.events.push(`log:${level}:${message}`);
  }
  retryLine(_task: TaskData, attempt: number): void {
    this.events.push(`retry:${attempt}`);
  }
}

function registered(method: (...args: unknown[]) => unknown, options: Partial<TaskDefinition> = {}): RegisteredTask {
  const definition: TaskDefinition = {
    name: 'Jobs.run',
    retries: 0,
    delay: 0,
    backoff: 1,
    persist: false,
    requeueOnInterrupt: false,
    eager: false,
    priority: null,
    timeout: null,
    executor: 'async',
    ...options,
  };
  return { definition, location: 'Jobs.run', instance: {}, method };
}

function runningTask(): TaskData {
  const task = newTask('Jobs.run', [], {}, { priority: null, source: 'manual', durable: false });
  task.status = 'running';
  task.startTime = Date.now();
  return task;
}

describe('TaskExecution (one task, its attempts)', () => {
  afterEach(() => jest.useRealTimers());

  it('succeeds: the method gets its arguments, the task ends success after one attempt', async () => {
    const hooks = new RecordingHooks();
    const task = runningTask();
    const seen: unknown[] = [];
    const execution = new TaskExecution(
      task,
      registered(async (...args) => void seen.push(...args)),
      [1, 'two'],
      hooks,
    );
    await execution.run();
    expect(seen).toEqual([1, 'two']);
    expect(task.status).toBe('success');
    expect(task.error).toBeNull();
    expect(task.endTime).not.toBeNull();
    expect(hooks.events).toEqual(['settled:success@1']);
  });

  it('fails after its retries, with the last error and a retry line per retry', async () => {
    const hooks = new RecordingHooks();
    const task = runningTask();
    let calls = 0;
    const method = () => {
      calls++;
      throw new Error(`boom ${calls}`);
    };
    await new TaskExecution(task, registered(method, { retries: 2 }), [], hooks).run();
    expect(calls).toBe(3);
    expect(task.status).toBe('failed');
    expect(task.retriesUsed).toBe(2);
    expect(task.error).toContain('boom 3');
    expect(task.stacktrace).toContain('boom 3');
    expect(hooks.events).toEqual(['changed:running', 'retry:1', 'changed:running', 'retry:2', 'settled:failed@3']);
  });

  it('times an attempt out: its signal is aborted with TaskTimeoutError and the task fails', async () => {
    jest.useFakeTimers();
    const hooks = new RecordingHooks();
    const task = runningTask();
    let signal: AbortSignal | undefined;
    const method = () => {
      signal = getTaskContext()!.signal;
      return new Promise(() => undefined); // never settles on its own
    };
    const done = new TaskExecution(task, registered(method, { timeout: 2 }), [], hooks).run();
    await jest.advanceTimersByTimeAsync(1_999);
    expect(task.status).toBe('running');
    await jest.advanceTimersByTimeAsync(1);
    await done;
    expect(task.status).toBe('failed');
    expect(task.error).toMatch(/^TaskTimeoutError/);
    expect(signal!.aborted).toBe(true);
    expect((signal!.reason as Error).name).toBe('TaskTimeoutError');
    expect(hooks.events).toEqual(['settled:failed@1']);
  });

  it('stop() aborts the running attempt at once and reports nothing more (the caller settles the task)', async () => {
    const hooks = new RecordingHooks();
    const task = runningTask();
    let signal: AbortSignal | undefined;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const method = () => {
      signal = getTaskContext()!.signal;
      started();
      return new Promise(() => undefined);
    };
    const execution = new TaskExecution(task, registered(method, { retries: 3 }), [], hooks);
    const done = execution.run();
    await running;
    execution.stop(new Error('cancelled by test'));
    await done;
    expect(execution.isStopped).toBe(true);
    expect(signal!.aborted).toBe(true);
    expect((signal!.reason as Error).message).toBe('cancelled by test');
    expect(task.status).toBe('running');
    expect(hooks.events).toEqual([]);
  });

  it('stop() during the back-off wait ends it without another attempt', async () => {
    jest.useFakeTimers();
    const hooks = new RecordingHooks();
    let calls = 0;
    const failing = registered(
      () => {
        calls++;
        throw new Error('no');
      },
      { retries: 1, delay: 60 },
    );
    const waiting = new TaskExecution(runningTask(), failing, [], hooks);
    const done = waiting.run();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(1);
    waiting.stop(new Error('shutdown'));
    await done;
    await jest.advanceTimersByTimeAsync(120_000);
    expect(calls).toBe(1);
    expect(hooks.events).toEqual(['changed:running']);
    expect(waiting.attempt).toBe(1);
  });

  it('tasks that return one and the same promise, settled later elsewhere, each end with their own outcome', async () => {
    // The engine's callbacks on a returned promise find their attempt in the task context of
    // the call that attached them, not in the promise: one promise, several attempts.
    let release!: (value: string) => void;
    const shared = new Promise<string>((resolve) => (release = resolve));
    const first = runningTask();
    const second = runningTask();
    const hooksA = new RecordingHooks();
    const hooksB = new RecordingHooks();
    const a = new TaskExecution(
      first,
      registered(() => shared),
      [],
      hooksA,
    ).run();
    const b = new TaskExecution(
      second,
      registered(() => shared),
      [],
      hooksB,
    ).run();
    // Settled from a third attempt's task context.
    const third = runningTask();
    await new TaskExecution(
      third,
      registered(async () => release('shared value')),
      [],
      new RecordingHooks(),
    ).run();
    await Promise.all([a, b]);
    expect([first.status, second.status, third.status]).toEqual(['success', 'success', 'success']);
    expect([first.result, second.result]).toEqual(['shared value', 'shared value']);
    expect(hooksA.events).toEqual(['settled:success@1']);
    expect(hooksB.events).toEqual(['settled:success@1']);
  });

  it('a rejected promise fails its own task only; a late outcome after a timeout changes nothing', async () => {
    let reject!: (error: Error) => void;
    const late = new Promise<never>((_resolve, rej) => (reject = rej));
    const timedOut = runningTask();
    const hooks = new RecordingHooks();
    await new TaskExecution(
      timedOut,
      registered(() => late, { timeout: 0.01 }),
      [],
      hooks,
    ).run();
    expect(timedOut.status).toBe('failed');
    expect(timedOut.error).toMatch(/TaskTimeoutError/);
    reject(new Error('too late'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(timedOut.error).toMatch(/TaskTimeoutError/);
    expect(hooks.events).toEqual(['settled:failed@1']);
  });

  it("the task context a task sees has only TaskContext's own keys (the engine's state is private)", async () => {
    let keys: string[] = [];
    let context: ReturnType<typeof getTaskContext>;
    await new TaskExecution(
      runningTask(),
      registered(async () => {
        await Promise.resolve();
        context = getTaskContext();
        keys = Object.keys(context!);
      }),
      [],
      new RecordingHooks(),
    ).run();
    expect(keys.sort()).toEqual(['attempt', 'funcName', 'tags', 'taskId']);
    expect(context!.signal.aborted).toBe(false);
  });

  it('turning the task context on early (before the first caller context) changes no context', async () => {
    enableTaskContext();
    expect(getTaskContext()).toBeUndefined();
    let inside: ReturnType<typeof getTaskContext>;
    const task = runningTask();
    await new TaskExecution(
      task,
      registered(() => {
        enableTaskContext();
        inside = getTaskContext();
      }),
      [],
      new RecordingHooks(),
    ).run();
    expect(inside!.taskId).toBe(task.id);
    expect(getTaskContext()).toBeUndefined();
  });
});
