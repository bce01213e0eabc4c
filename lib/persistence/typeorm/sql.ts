import type { QueryRunner } from 'typeorm';
import { Dialect } from './dialect';

export interface SqlResult {
  rows: Record<string, unknown>[];
  affected: number;
  /** MySQL: the statement's LAST_INSERT_ID() (also set by `LAST_INSERT_ID(expr)` in an UPDATE); 0 elsewhere. */
  insertId?: number;
}

/** Bounds one statement's wait for its answer (see RunnerLease); none on SQLite. */
export type StatementBound = <T>(work: Promise<T>) => Promise<T>;

/** Runs one statement (with `?` placeholders) on the session or transaction at hand. */
export interface Sql {
  readonly dialect: Dialect;
  /**
   * Statements may be issued without awaiting the one before: they run in the order
   * issued, and after one fails the others fail too and the transaction rolls back
   * (the SQLite writer thread, where each awaited reply costs an event-loop turn).
   * The COMMIT then fails with that error too, so a transaction need not await its last
   * statements' answers before it returns (their rejections must be handled, though).
   * A statement's parameters are copied when it is issued (to the thread): the caller
   * need not keep them while the answer is on its way.
   */
  readonly pipelined?: boolean;
  /**
   * SQLite writer thread: runs a statement answering one row and keeps its first column
   * for the rest of the transaction (runEach's `keptSlot`), so that the statements using
   * it are sent without waiting for it; resolves with that value.
   */
  keep?(sql: string, params?: readonly unknown[]): Promise<unknown>;
  run(sql: string, params?: readonly unknown[]): Promise<SqlResult>;
  /**
   * Runs one single-row write statement once per parameter list, in order; resolves
   * with the rows changed. SQLite only (undefined elsewhere): a prepared statement on
   * the driver's own handle, stepped in a loop inside the current transaction. It
   * skips TypeORM's per-query work (parameter copy, logging, subscriber broadcast) and
   * the 11,500-parameter multi-row statements: saveBatch of 100,000 new rows went from
   * ~59,000 to ~71,000 rows/s (BENCHMARKS.md); the rest is SQLite's own index upkeep.
   */
  runEach?(sql: string, rows: readonly (readonly unknown[])[], options?: EachOptions): Promise<number>;
  /** The same for a single-row SELECT: the row each parameter list finds, if any (SQLite only). */
  getEach?(sql: string, rows: readonly (readonly unknown[])[]): Promise<(Record<string, unknown> | undefined)[]>;
}

/** What runEach may do besides stepping its statement (the SQLite writer thread's). */
export interface EachOptions {
  /** Every row's parameter at this index is set to the value the transaction's `keep` statement kept. */
  keptSlot?: number;
  /**
   * Run once the rows are inserted, with the first and the last rowid they took as its two
   * parameters (once per row, with its rowid twice, when they are not one unbroken range).
   */
  insertedRange?: string;
}

/** Sql over a TypeORM QueryRunner: `?` placeholders translated for the dialect, each statement under `bound`. */
export function runnerSql(runner: QueryRunner, dialect: Dialect, bound: StatementBound = (work) => work): Sql {
  return {
    dialect,
    async run(text: string, params: readonly unknown[] = []): Promise<SqlResult> {
      const result = await bound(runner.query(dialect.placeholders(text), params as unknown[], true));
      const records = (result as { records?: unknown }).records;
      const raw = (result as { raw?: { insertId?: unknown } }).raw;
      return {
        rows: Array.isArray(records) ? (records as Record<string, unknown>[]) : [],
        affected: Number((result as { affected?: unknown }).affected ?? 0) || 0,
        insertId: Number(raw?.insertId ?? 0) || 0,
      };
    },
  };
}
