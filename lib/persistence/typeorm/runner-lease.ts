import type { QueryRunner } from 'typeorm';
import { QueryTimeoutError, withDeadline } from './deadline';

/** What TypeORM's PostgreSQL and MySQL runners hold, as far as throwing a connection away needs. */
interface DriverRunner {
  /** PostgreSQL: hands the client back to pg-pool with an error, which removes and ends it. */
  releasePostgresConnection?(error?: Error): Promise<void>;
  /** PostgreSQL: the pg Client; MySQL: the mysql2 PoolConnection. */
  databaseConnection?: { destroy?(): void; connection?: { stream?: { destroy?(): void } } };
}

/**
 * One pooled QueryRunner whose connect and statements each get `timeoutMs`. A black-holed
 * server never fails a call, it just never answers, so without a deadline a read hung
 * for the whole outage. A connection that timed out is never handed back to the pool:
 * it still has a statement in flight, and the next caller would queue behind it (pg) or
 * read its late reply; it is destroyed instead (the server rolls back what it had open),
 * and one whose connect timed out is destroyed once the pool gives it, so no pool slot
 * is lost to the outage.
 */
export class RunnerLease {
  private timedOut = false;
  private connected = false;

  constructor(
    readonly runner: QueryRunner,
    private readonly timeoutMs: number | null,
  ) {}

  /** True once a call on this connection timed out: no rollback is attempted, it is destroyed. */
  get broken(): boolean {
    return this.timedOut;
  }

  async connect(): Promise<void> {
    const connecting = this.runner.connect();
    try {
      await this.bound(connecting, 'Taking a database connection');
      this.connected = true;
    } catch (error) {
      if (this.timedOut)
        connecting.then(
          () => this.destroy(),
          () => undefined,
        );
      throw error;
    }
  }

  /** `work` on this connection, under the deadline. */
  bound<T>(work: Promise<T>, what = 'A database query'): Promise<T> {
    if (this.timeoutMs === null) return work;
    return withDeadline(work, this.timeoutMs, what).catch((error: unknown) => {
      if (error instanceof QueryTimeoutError) this.timedOut = true;
      throw error;
    });
  }

  /** Back to the pool, or destroyed when a call timed out on it. */
  async release(): Promise<void> {
    if (!this.timedOut) {
      await this.runner.release().catch(() => undefined);
      return;
    }
    // A timed-out connect is destroyed when it completes (see connect()).
    if (this.connected) this.destroy();
  }

  private destroy(): void {
    const runner = this.runner as unknown as DriverRunner;
    const connection = runner.databaseConnection;
    if (typeof runner.releasePostgresConnection === 'function') {
      void runner.releasePostgresConnection(new QueryTimeoutError('A database query', this.timeoutMs ?? 0)).catch(() => undefined);
      // pg's end() would wait for the server to answer the goodbye; drop the socket now.
      connection?.connection?.stream?.destroy?.();
      return;
    }
    if (typeof connection?.destroy === 'function') {
      connection.destroy();
      return;
    }
    void this.runner.release().catch(() => undefined);
  }
}
