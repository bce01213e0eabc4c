/**
 * What a search indexer knows of this process's writes (search-indexer.ts for SQLite,
 * pg-search-indexer.ts for PostgreSQL): whether one is in flight and when the last ended,
 * and a backlog of rows that may have been queued since the queue was last found empty.
 * Subclasses fold on `tick`, every `tickMs` once started.
 */
/** No write of this process for this long: the writer is idle, an indexer may take its turn. */
export const IDLE_MS = 100;

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

  protected constructor(private readonly tickMs: number) {}

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
      this.lastWrite = Date.now();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** No write in flight, and none ended in the last IDLE_MS. */
  protected idle(now = Date.now()): boolean {
    return this.inFlight === 0 && now - this.lastWrite >= IDLE_MS;
  }

  /** Folds the whole queue now (tests, tools). */
  abstract drain(): Promise<void>;

  protected abstract tick(): void;

  /** The queue was found empty by a look begun when `writesSeen` writes had begun. */
  protected emptied(writesSeen: number): void {
    if (this.writes === writesSeen) this.backlog = 0;
  }
}
