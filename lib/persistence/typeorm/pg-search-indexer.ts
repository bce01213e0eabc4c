import { Connection, hash32 } from './connection';
import { foldStatement } from './pg-search';
import { SearchTables } from './search-index';
import { WriteTracker } from './write-tracker';

const TICK_MS = 100;
/**
 * Under writes that never pause, a fold still runs this often: searches read every queued
 * row, so the queue must not grow without end (each fold is bounded by FOLD_MS).
 */
const FORCED_EVERY_MS = 1000;
/**
 * Past this many rows queued by this process, a fold runs at every tick even under writes:
 * a load that never pauses for IDLE_MS (write-tracker.ts) and writes faster than the forced folds take rows
 * (about 2,000 per FORCED_EVERY_MS) would otherwise grow the queue, which every search
 * reads whole, without end. Above a 100,000-task burst's queue, so a burst keeps its speed.
 */
const QUEUE_BOUND = 200_000;
/** Queued rows one fold statement takes. */
const CHUNK_ROWS = 2000;
/** A fold's transaction takes no new chunk after this long (ms). */
const FOLD_MS = 100;

/** Whether a fold may run at this tick, the queue not empty and no fold under way. */
export function foldDue(idle: boolean, backlog: number, sinceChanceMs: number): boolean {
  return idle || backlog >= QUEUE_BOUND || sinceChanceMs >= FORCED_EVERY_MS;
}

/** What one fold did. */
interface Folded {
  rows: number;
  /** The queue was found empty (false: more to fold, or another instance was folding). */
  drained: boolean;
  /** Another instance held the fold's lock. */
  busy: boolean;
}

/**
 * PostgreSQL: folds the search queue into the side table (see pg-search.ts), while this
 * process writes nothing, and under a long burst once every FORCED_EVERY_MS. Instances
 * sharing the database fold one at a time (a transaction-scoped advisory lock, taken
 * before the fold's statements take their snapshots, so that each fold sees every earlier
 * one's result): two folds of one id in parallel could leave the older text last.
 */
export class PgSearchIndexer extends WriteTracker {
  /** When the indexer last folded or could have (idle, or nothing queued). */
  private lastChance = Date.now();
  private readonly lock: number;
  private readonly statement: string;

  constructor(
    private readonly connection: Connection,
    t: SearchTables,
  ) {
    super(TICK_MS);
    this.lock = hash32(`search-fold:${t.search}`);
    this.statement = foldStatement(t, CHUNK_ROWS);
  }

  /** Folds the whole queue now, waiting out another instance's fold (tests, tools). */
  async drain(): Promise<void> {
    await this.running;
    for (;;) {
      const seen = this.writes;
      const folded = await this.fold(Number.POSITIVE_INFINITY);
      if (folded.drained) return this.emptied(seen);
      if (folded.busy) await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  protected tick(): void {
    const now = Date.now();
    const idle = this.idle(now);
    if (this.running) return;
    // Forced only after FORCED_EVERY_MS of writes without a pause, counted from the last chance to fold.
    if (idle || this.backlog === 0) this.lastChance = now;
    if (this.stopped || this.backlog === 0) return;
    if (!foldDue(idle, this.backlog, now - this.lastChance)) return;
    this.running = this.foldSome()
      .catch(() => undefined) // retried at the next tick; a search reads queued rows anyway
      .finally(() => {
        this.lastChance = Date.now();
        this.running = null;
      });
  }

  private async foldSome(): Promise<void> {
    const seen = this.writes;
    const folded = await this.fold(FOLD_MS);
    if (folded.drained) this.emptied(seen);
    else if (!folded.busy) this.backlog = Math.max(1, this.backlog - folded.rows);
  }

  /** Chunks in one transaction until the queue is empty or `budgetMs` ran out; nothing if another instance is folding. */
  private fold(budgetMs: number): Promise<Folded> {
    return this.connection.transaction(async (sql) => {
      const got = await sql.run('SELECT pg_try_advisory_xact_lock(?) AS got', [this.lock]);
      if (got.rows[0]?.got !== true) return { rows: 0, drained: false, busy: true };
      const started = Date.now();
      let rows = 0;
      for (;;) {
        const result = await sql.run(this.statement);
        const n = Number(result.rows[0]?.n) || 0;
        rows += n;
        if (n < CHUNK_ROWS) return { rows, drained: true, busy: false };
        if (Date.now() - started >= budgetMs) return { rows, drained: false, busy: false };
      }
    });
  }
}
