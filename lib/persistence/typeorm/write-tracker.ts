import { foldDue, FoldReason, QUEUE_BOUND } from './fold-due';

/**
 * What a search indexer knows of this process's writes (search-indexer.ts for SQLite,
 * pg-search-indexer.ts for PostgreSQL): whether one is in flight and when the last ended,
 * and a backlog of rows that may have been queued since the queue was last found empty.
 * Subclasses fold on `tick`, every `tickMs` once started, when `due` says so (fold-due.ts).
 */
/** No write of this process for this long: the writer is idle, an indexer may take its turn. */
export const IDLE_MS = 100;

/** The clock and bound an indexer times its folds by (tests pass a fake clock and a small bound). */
export interface FoldTiming {
  now: () => number;
  queueBound: number;
}

export const REAL_TIMING: FoldTiming = { now: () => Date.now(), queueBound: QUEUE_BOUND };

export abstract class WriteTracker {
  private timer: NodeJS.Timeout | null = null;
  protected lastWrite = 0;
  protected inFlight = 0;
  /** Rows written since the queue was last found empty; the start checks once for rows an earlier process left. */
  protected backlog = 1;
  /** Writes begun, so that a queue found empty does not clear the backlog of a write under way meanwhile. */
  protected writes = 0;
  protected running: Promise<void> | null = null;
  protected stopped = false;
  /** When the indexer last folded or could have (idle, or nothing queued): forced folds count from it. */
  private lastChance: number;

  protected constructor(
    private readonly tickMs: number,
    protected readonly timing: FoldTiming,
  ) {
    this.lastChance = timing.now();
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref?.();
  }

  /** Runs a write of `rows` rows (each may queue one); the indexer knows it is in flight. */
  async writing<T>(rows: number, work: () => Promise<T>): Promise<T> {
    this.inFlight++;
    this.writes++;
    this.backlog += rows;
    try {
      return await work();
    } finally {
      this.inFlight--;
      this.lastWrite = this.timing.now();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** No write in flight, and none ended in the last IDLE_MS. */
  protected idle(now = this.timing.now()): boolean {
    return this.inFlight === 0 && now - this.lastWrite >= IDLE_MS;
  }

  /** Whether a fold may start now and why (call with no fold under way); forced ones only after a second of writes without a chance. */
  protected due(): FoldReason {
    const now = this.timing.now();
    const idle = this.idle(now);
    if (idle || this.backlog === 0) this.lastChance = now;
    if (this.stopped || this.backlog === 0) return null;
    return foldDue(idle, this.backlog, now - this.lastChance, this.timing.queueBound);
  }

  /** A fold ended: the next forced one is a FORCED_EVERY_MS of writes away. */
  protected folded(): void {
    this.lastChance = this.timing.now();
  }

  /** Folds the whole queue now (tests, tools). */
  abstract drain(): Promise<void>;

  protected abstract tick(): void;

  /** The queue was found empty by a look begun when `writesSeen` writes had begun. */
  protected emptied(writesSeen: number): void {
    if (this.writes === writesSeen) this.backlog = 0;
  }
}
