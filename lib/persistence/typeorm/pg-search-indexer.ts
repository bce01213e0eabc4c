import { Connection, hash32 } from './connection';
import { foldStatement } from './pg-search';
import { SearchTables } from './search-index';
import { REAL_TIMING, WriteTracker } from './write-tracker';

const TICK_MS = 100;
/** Queued rows one fold statement takes. */
const CHUNK_ROWS = 2000;
/** A fold's transaction takes no new chunk after this long (ms). */
const FOLD_MS = 100;
/**
 * Rows folded (each a dead queue tuple) after which a drain while idle vacuums the queue.
 * Every search reads the whole queue (no index: appends stay cheap), dead tuples included:
 * after a 1M-row burst the emptied queue kept 8,334 pages and a search spent 19 of its 33 ms
 * scanning them, until a vacuum that autovacuum (off on some servers, late on others) may
 * not run for a long time. VACUUM truncates the emptied pages, so the scan reads none.
 */
const VACUUM_AFTER_ROWS = 10_000;

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
 * process writes nothing, and under writes that never pause as fold-due.ts says. Instances
 * sharing the database fold one at a time (a transaction-scoped advisory lock, taken
 * before the fold's statements take their snapshots, so that each fold sees every earlier
 * one's result): two folds of one id in parallel could leave the older text last.
 */
export class PgSearchIndexer extends WriteTracker {
  private readonly lock: number;
  private readonly statement: string;
  private readonly vacuum: string;
  /** Queue rows folded (dead tuples left) since the queue was last vacuumed. */
  private deadSinceVacuum = 0;

  constructor(
    private readonly connection: Connection,
    t: SearchTables,
  ) {
    super(TICK_MS, REAL_TIMING);
    this.lock = hash32(`search-fold:${t.search}`);
    this.statement = foldStatement(t, CHUNK_ROWS);
    this.vacuum = `VACUUM "${t.searchQueue}"`;
  }

  /** Folds the whole queue now, waiting out another instance's fold (tests, tools). */
  async drain(): Promise<void> {
    await this.running;
    for (;;) {
      const seen = this.writes;
      const folded = await this.fold(Number.POSITIVE_INFINITY);
      if (folded.drained) {
        this.emptied(seen);
        return this.vacuumIfDue();
      }
      if (folded.busy) await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  protected tick(): void {
    if (this.running || !this.due()) return;
    this.running = this.foldSome()
      .catch(() => undefined) // retried at the next tick; a search reads queued rows anyway
      .finally(() => {
        this.folded();
        this.running = null;
      });
  }

  private async foldSome(): Promise<void> {
    const seen = this.writes;
    const folded = await this.fold(FOLD_MS);
    if (folded.drained) this.emptied(seen);
    else if (!folded.busy) this.backlog = Math.max(1, this.backlog - folded.rows);
    // Only while idle: a vacuum between a burst's folds would compete with its writes.
    if (folded.drained && this.idle()) await this.vacuumIfDue();
  }

  /**
   * Once the queue was drained: VACUUM past VACUUM_AFTER_ROWS folded (outside a transaction,
   * as it must be); a role that may not vacuum leaves it to autovacuum.
   */
  private async vacuumIfDue(): Promise<void> {
    if (this.deadSinceVacuum < VACUUM_AFTER_ROWS) return;
    this.deadSinceVacuum = 0;
    await this.connection.read((sql) => sql.run(this.vacuum)).catch(() => undefined);
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
        this.deadSinceVacuum += n;
        if (n < CHUNK_ROWS) return { rows, drained: true, busy: false };
        if (Date.now() - started >= budgetMs) return { rows, drained: false, busy: false };
      }
    });
  }
}
