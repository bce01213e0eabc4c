import { RegisteredTask } from '../discovery/registered-task';
import type { StoreEntry } from '../storage/memory-task.store';
import { TaskData } from '../task/task-record';
import { TaskOrigin } from './caller-context';
import { PriorityLevels } from './priority-levels';

const PUMP_BATCH = 1000;
/**
 * ... or, past PUMP_MIN_TURN starts, after this long (ms) of starting and running them,
 * checked every PUMP_CHECK starts. A short burst still runs in one turn (the SSE hub
 * then sees it in one flush window); a long one no longer holds the loop for its length.
 */
const PUMP_TURN_MS = 2;
const PUMP_MIN_TURN = 256;
const PUMP_CHECK = 32;
/**
 * Starts counted before the queue watches for the turn's end (a setImmediate that resets the
 * count). A turn that starts fewer schedules nothing: an HTTP request that adds one task then
 * pays no Immediate (its allocation, async hooks, and the check handle's ref and unref) for a
 * count that only matters past PUMP_MIN_TURN. The price: up to PUMP_WATCH - 1 starts of
 * earlier turns are counted in the next turn that reaches PUMP_WATCH.
 */
const PUMP_WATCH = 8;

export interface QueuedTask {
  task: TaskData;
  registered: RegisteredTask;
  /** The context of the call that created it, for its attempts (null: none). */
  origin: TaskOrigin | null;
  /** Its place among tasks of equal priority (FIFO), kept when it is queued again. */
  order: number;
  /** Its rate-limit partition, once computed (a function with `rateLimitKey`). */
  rateKey?: string;
  /** Its record's entry in the memory store, when the runtime kept it (finishing then needs no lookup). */
  entry: StoreEntry | undefined;
}

/**
 * What the queue does with a task whose turn came: start it, hold it until `reopen()`,
 * drop it, or nothing, because the admission check parked it (its function's gate keeps
 * it and gives it back through `requeue` when it may start).
 */
export type Admission = 'start' | 'hold' | 'drop' | 'park';

/**
 * Pending tasks in priority order and the concurrency cap. Nothing starts while
 * held (startup) or once intake stopped; `start` is called for each task that may
 * run and says whether it took a slot (one that fails before running does not).
 */
export class TaskQueue {
  private readonly queue = new PriorityLevels<QueuedTask>();
  /** Tasks whose turn came while `admit` said hold. */
  private held_: QueuedTask[] = [];
  private pumpScheduled = false;
  /** Tasks started since the event loop last reached its check phase, give or take PUMP_WATCH (see pump). */
  private startsThisTurn = 0;
  /** When the turn's PUMP_WATCH-th start came (performance.now()). */
  private turnStartedAt = 0;
  private runningCount = 0;
  private nextOrder = 0;
  private held = true;
  private stopped = false;

  /**
   * `mayStart`: the gate in front of every start (the write backlog): false holds the
   * whole queue, until `wake` is called.
   */
  constructor(
    private readonly cap: number,
    private readonly start: (next: QueuedTask) => boolean,
    private readonly admit: (next: QueuedTask) => Admission = () => 'start',
    private readonly mayStart: (wake: () => void) => boolean = () => true,
  ) {}

  private readonly wake = (): void => {
    if (this.queue.size > 0) this.schedulePump();
  };

  /** Tasks holding a slot. */
  get running(): number {
    return this.runningCount;
  }

  /** Tasks waiting for a slot. */
  get waiting(): number {
    return this.queue.size;
  }

  /** Slots free now (Infinity without a cap). */
  get free(): number {
    return Math.max(0, this.cap - this.runningCount);
  }

  /**
   * Takes out of the queue the tasks matching `shareable` beyond the first `keep` in
   * turn order (lowest priority, newest, go first), to be run elsewhere.
   */
  takeExcess(keep: number, shareable: (task: TaskData) => boolean, max: number): QueuedTask[] {
    if (this.queue.size <= keep) return [];
    const ordered: QueuedTask[] = [];
    for (let next = this.queue.pop(); next; next = this.queue.pop()) ordered.push(next);
    const taken: QueuedTask[] = [];
    for (let i = ordered.length - 1; i >= keep && taken.length < max; i--) {
      if (ordered[i].task.status === 'pending' && shareable(ordered[i].task)) taken.push(ordered.splice(i, 1)[0]);
    }
    for (const next of ordered) this.queue.push(next, next.task.priority ?? 0, next.order);
    return taken;
  }

  push(task: TaskData, registered: RegisteredTask, origin: TaskOrigin | null = null, entry?: StoreEntry): void {
    this.requeue({ task, registered, origin, order: this.nextOrder++, entry });
  }

  /** Queues a task again at the place its order gives it (a parked task its gate lets go). */
  requeue(next: QueuedTask): void {
    this.queue.push(next, next.task.priority ?? 0, next.order);
    this.schedulePump();
  }

  /** Lets tasks start (end of startup). */
  unhold(): void {
    this.held = false;
    if (this.queue.size > 0) this.schedulePump();
  }

  /** Queues the held tasks again (the reason to hold them is gone). */
  reopen(): void {
    const held = this.held_;
    this.held_ = [];
    for (const next of held) this.queue.push(next, next.task.priority ?? 0, next.order);
    if (this.queue.size > 0) this.schedulePump();
  }

  /** No task starts from now on (shutdown). */
  stop(): void {
    this.stopped = true;
  }

  /** A running task gave its slot back. */
  release(): void {
    this.runningCount--;
    if (this.queue.size > 0) this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(this.pumpNow);
  }

  /** The pump as a callback, made once: it is scheduled about once per task that ends. */
  private readonly pumpNow = (): void => this.pump();

  /** The check phase came: a new turn counts its starts from 0. Made once, not per turn. */
  private readonly turnEnded = (): void => {
    this.startsThisTurn = 0;
  };

  private turnIsLong(): boolean {
    return performance.now() - this.turnStartedAt >= PUMP_TURN_MS;
  }

  /**
   * Starts waiting tasks while slots are free, highest priority first. After
   * PUMP_BATCH starts in one turn of the event loop, or PUMP_TURN_MS of them past
   * PUMP_MIN_TURN (SSE and HTTP wait about that long), it yields (setImmediate), so a
   * burst of tasks cannot starve I/O: timers, the database writes, HTTP. Counted
   * per turn, not per call: under a concurrency cap each call starts only the few
   * tasks that fit, and tasks that settle in microtasks call it again at once, so a
   * per-call count never reached the limit (100,000 queued no-op tasks ran in one
   * turn before the first group commit could start).
   */
  private pump(): void {
    this.pumpScheduled = false;
    while (!this.stopped && !this.held && this.runningCount < this.cap) {
      if (
        this.startsThisTurn >= PUMP_BATCH ||
        (this.startsThisTurn >= PUMP_MIN_TURN && this.startsThisTurn % PUMP_CHECK === 0 && this.turnIsLong())
      ) {
        this.pumpScheduled = true;
        setImmediate(() => {
          this.startsThisTurn = 0;
          this.pump();
        });
        return;
      }
      if (this.queue.size === 0 || !this.mayStart(this.wake)) return;
      const next = this.queue.pop();
      if (!next) return;
      if (next.task.status === 'pending') {
        const admission = this.admit(next);
        if (admission === 'hold') this.held_.push(next);
        if (admission !== 'start') continue;
        if (++this.startsThisTurn === PUMP_WATCH) {
          this.turnStartedAt = performance.now();
          setImmediate(this.turnEnded);
        }
        if (this.start(next)) this.runningCount++;
      }
    }
  }
}
