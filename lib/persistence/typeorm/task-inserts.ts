import type { EntityManager } from 'typeorm';
import { TaskData } from '../../task/task-record';
import { Connection, Sql } from './connection';
import { reserveWith } from './idempotency';
import { runnerSql } from './sql';
import { TableNames } from './schema';
import { insertNew } from './task-writes';
import { TransactionHooks } from './transaction-hooks';
import { typeormMessages } from './typeorm.messages';

/** What insertTask did: the id holding the task's key afterwards, and for a row in the caller's transaction, when that ends. */
export interface InsertOutcome {
  holder: string;
  /** Set when the row went into the application's transaction: resolves true on its commit, false on rollback. */
  outcome?: Promise<boolean>;
}

/**
 * The row of a new task and its idempotency key, together: the key is bound first
 * (a key held by a pending, running or successful task returns that task's id and
 * writes nothing), then the row and its metric counts are inserted. In one
 * transaction of its own, or through `manager`, the EntityManager of the
 * application's open transaction on this DataSource: then key and row commit or
 * roll back with the application's data.
 */
export async function insertTask(connection: Connection, t: TableNames, task: TaskData, manager?: EntityManager): Promise<InsertOutcome> {
  const write = async (sql: Sql, counted: boolean): Promise<string> => {
    if (task.idempotencyKey) {
      const holder = await reserveWith(sql, t, task.idempotencyKey, task.id);
      if (holder !== task.id) return holder;
    }
    await insertNew(sql, t, [task], counted);
    return task.id;
  };
  if (!manager) return { holder: await connection.transaction((sql) => write(sql, true)) };
  const runner = manager.queryRunner;
  if (!runner || !runner.isTransactionActive) throw new TypeError(typeormMessages.notATransaction());
  if (manager.connection !== connection.dataSource) throw new TypeError(typeormMessages.otherDatabase());
  // Not the metric counts: their rows are shared by every task of the function, and
  // locking one until the application commits would stall every other write of it
  // (and deadlock a caller that awaits a task write inside its transaction). The
  // task's first write after the commit counts it (TaskData.uncounted).
  const holder = await write(runnerSql(runner, connection.dialect), false);
  if (holder !== task.id) return { holder };
  task.uncounted = true;
  // Watched only once the row is written: a commit or rollback before that cannot be this row's.
  const outcome = new Promise<boolean>((resolve) =>
    TransactionHooks.of(connection.dataSource).watch(
      runner,
      () => resolve(true),
      () => resolve(false),
    ),
  );
  return { holder, outcome };
}
