import type { DataSource, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';

interface Waiter {
  /** Transaction depth when the task's row was written (1 = outside any savepoint). */
  depth: number;
  committed: () => void;
  rolledBack: () => void;
}

/** The nesting TypeORM keeps per query runner (protected in its typings; a savepoint per level above 1). */
function depthOf(runner: QueryRunner): number {
  const depth = (runner as unknown as { transactionDepth?: unknown }).transactionDepth;
  return typeof depth === 'number' ? depth : runner.isTransactionActive ? 1 : 0;
}

const hooks = new WeakMap<DataSource, TransactionHooks>();

/**
 * Tells enqueue when the application's transaction ends. One TypeORM subscriber per
 * DataSource receives `afterTransactionCommit` and `afterTransactionRollback`, which
 * every query runner broadcasts after its COMMIT / ROLLBACK (and after a savepoint's
 * RELEASE / ROLLBACK TO, with the depth already lowered):
 * - commit: once the runner has no transaction left (the outermost COMMIT), every row
 *   written through it is committed; a released savepoint commits nothing yet;
 * - rollback: rows written at a depth above what is left were rolled back with their
 *   savepoint, all of them when no transaction is left.
 * The callbacks run after the broadcast, on a later turn, so the application's
 * `commitTransaction()` returns first and never waits for a task to start.
 */
export class TransactionHooks implements EntitySubscriberInterface {
  private readonly waiting = new WeakMap<QueryRunner, Waiter[]>();

  static of(dataSource: DataSource): TransactionHooks {
    let found = hooks.get(dataSource);
    if (!found) {
      found = new TransactionHooks();
      hooks.set(dataSource, found);
      // Subscribers are read on each broadcast, so one added after initialize() is heard.
      (dataSource.subscribers as EntitySubscriberInterface[]).push(found);
    }
    return found;
  }

  /** Calls `committed` once the runner's outermost transaction commits, `rolledBack` if the row is rolled back. */
  watch(runner: QueryRunner, committed: () => void, rolledBack: () => void): void {
    let list = this.waiting.get(runner);
    if (!list) this.waiting.set(runner, (list = []));
    list.push({ depth: depthOf(runner), committed, rolledBack });
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const runner = event.queryRunner;
    if (runner.isTransactionActive) return;
    this.settle(runner, () => true);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    const runner = event.queryRunner;
    const left = runner.isTransactionActive ? depthOf(runner) : 0;
    this.settle(runner, (w) => w.depth <= left, true);
  }

  /** Fires and forgets the waiters of `runner` that `keep` does not keep. */
  private settle(runner: QueryRunner, committedOrKept: (w: Waiter) => boolean, rollback = false): void {
    const list = this.waiting.get(runner);
    if (!list) return;
    const ended = rollback ? list.filter((w) => !committedOrKept(w)) : list;
    const kept = rollback ? list.filter(committedOrKept) : [];
    if (kept.length) this.waiting.set(runner, kept);
    else this.waiting.delete(runner);
    if (!ended.length) return;
    setImmediate(() => {
      for (const w of ended) (rollback ? w.rolledBack : w.committed)();
    });
  }
}
