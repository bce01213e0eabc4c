import type { DataSourceOptions } from 'typeorm';
import { type ChildEvent, type CrashChild, Ledger, killAllChildren, pollUntil } from './crash-child';
import { type TaskRow, TaskTable } from './crash-db';
import { uniquePrefix } from './databases';

export type Accepted = Extract<ChildEvent, { ev: 'accepted' }>;

/** What every crash suite sets up, through the jest hooks of the describe block that calls {@link useCrashSuite}. */
export interface CrashSuite {
  /** The suite's own table prefix (no other run uses it). */
  readonly prefix: string;
  /** The test's direct view of the prefix's tasks table (open from beforeAll until afterAll). */
  readonly table: TaskTable;
  /** A new ledger file, removed after the current test (whether it passed or not). */
  ledger(): Ledger;
}

/**
 * Registers the set-up the crash suites share: a fresh table prefix whose tables are
 * created before the tests and dropped after them, every child process a test left running
 * killed after each test (and again after all), and the test's ledgers removed after it.
 * `cleanup` runs last, after the tables are dropped (e.g. the SQLite target's dispose).
 * With `shareChildren`, children live on from one test to the next (cases that share
 * processes started in a beforeAll, to keep CI time down) and are killed after all.
 */
export function useCrashSuite(database: DataSourceOptions, cleanup?: () => void, options: { shareChildren?: boolean } = {}): CrashSuite {
  const prefix = uniquePrefix();
  const ledgers: Ledger[] = [];
  let table: TaskTable | undefined;

  beforeAll(async () => {
    table = await TaskTable.open(database, prefix);
  });
  afterEach(async () => {
    if (!options.shareChildren) await killAllChildren();
    for (const ledger of ledgers.splice(0)) ledger.dispose();
  });
  afterAll(async () => {
    await killAllChildren();
    await table?.dropAndClose();
    cleanup?.();
  });

  return {
    prefix,
    get table(): TaskTable {
      if (!table) throw new Error('the crash suite table is opened in beforeAll: use it inside a test or hook');
      return table;
    },
    ledger(): Ledger {
      const ledger = new Ledger();
      ledgers.push(ledger);
      return ledger;
    },
  };
}

/** The tasks a child reported accepting, in the order it added them. */
export function acceptedTasks(child: CrashChild): Accepted[] {
  return child.events.filter((e): e is Accepted => e.ev === 'accepted');
}

const SETTLED = ['success', 'interrupted'];

/** Waits until every one of `tasks` has a row in `table` and the `running` ones are stored as running. */
export async function untilStoredAndRunning(table: TaskTable, tasks: { id: string }[], running: string[], what: string): Promise<void> {
  await pollUntil(what, async () => {
    const rows = await table.byId();
    return tasks.every((t) => rows.has(t.id)) && running.every((id) => rows.get(id)?.status === 'running');
  });
}

/**
 * Waits until every one of `tasks` is settled in `table` (`success`, or `interrupted` for those
 * caught running by a crash), and resolves with the rows by id at that moment.
 */
export function untilSettled(
  table: TaskTable,
  tasks: { id: string }[],
  what: string,
  timeoutMs?: number,
  everyMs?: number,
): Promise<Map<string, TaskRow>> {
  return pollUntil(
    what,
    async () => {
      const rows = await table.byId();
      return tasks.every((t) => SETTLED.includes(rows.get(t.id)?.status ?? '')) ? rows : undefined;
    },
    timeoutMs,
    everyMs,
  );
}
