import { INestApplication, Injectable } from '@nestjs/common';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { BackgroundTask, TaskManager } from '../../lib';
import { sqliteOptions } from '../../lib/persistence/typeorm';
import { createManagerApp } from '../support/app';

@Injectable()
class Jobs {
  @BackgroundTask()
  async touch(n: number): Promise<number> {
    return n;
  }
}

/**
 * An application sharing its SQLite DataSource with the manager writes on the same file
 * as the manager's writer thread, from the main thread, where better-sqlite3 waits for a
 * busy file synchronously. A writer transaction that held the write lock while it waited
 * for the main thread's next statement deadlocked both until the busy timeout (5 s), then
 * failed the application's write with "database is locked" (CI, enqueue.spec.ts).
 */
describe('SQLite DataSource shared with the application', () => {
  let dir: string;
  let dataSource: DataSource;
  let app: INestApplication;
  let manager: TaskManager;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskflow-shared-'));
    dataSource = new DataSource(sqliteOptions(path.join(dir, 'app.db')));
    await dataSource.initialize();
    await dataSource.query('CREATE TABLE app_orders (id INTEGER PRIMARY KEY, note TEXT NOT NULL)');
    ({ app, manager } = await createManagerApp({ database: dataSource, tablePrefix: 'shared_' }, { providers: [Jobs] }));
  });
  afterEach(async () => {
    await app.close();
    if (dataSource.isInitialized) await dataSource.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("never holds the application's own write transactions for the busy timeout", async () => {
    const jobs = app.get(Jobs);
    const TASKS = 1500;
    const APP_WRITES = 300;
    const ids: string[] = [];
    let next = 0;
    // A steady stream of durable tasks: each enqueue is a writer transaction, each run a group-committed change.
    const producers = Array.from({ length: 8 }, async () => {
      while (next < TASKS) {
        const n = next++;
        ids.push(await manager.enqueue(jobs.touch, [n], { idempotencyKey: `touch-${n}` }));
      }
    });
    const waits: number[] = [];
    const failures: string[] = [];
    const appWrites = (async () => {
      for (let i = 0; i < APP_WRITES && failures.length === 0; i++) {
        const started = Date.now();
        try {
          await dataSource.transaction(async (em) => {
            await em.query('INSERT INTO app_orders (id, note) VALUES (?, ?)', [i, `order ${i}`]);
            // Every third one enqueues inside the application's transaction.
            if (i % 3 === 0) ids.push(await manager.enqueue(jobs.touch, [-i - 1], { transaction: em, idempotencyKey: `order-${i}` }));
          });
        } catch (error) {
          failures.push(`write ${i} after ${Date.now() - started} ms: ${String(error)} ${String((error as { code?: unknown }).code ?? '')}`);
        }
        waits.push(Date.now() - started);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await Promise.all([...producers, appWrites]);
    expect(failures).toEqual([]);
    // The lock is the writer's for a group commit at most (milliseconds), never for the 5 s busy timeout.
    expect(Math.max(...waits)).toBeLessThan(2000);

    await Promise.all(ids.map((id) => manager.waitFor(id)));
    await manager.flush();
    const rows = (await dataSource.query(`SELECT id, COUNT(*) AS n FROM shared_tasks GROUP BY id`)) as { id: string; n: number }[];
    expect(rows.length).toBe(TASKS + Math.ceil(APP_WRITES / 3));
    expect(rows.every((row) => Number(row.n) === 1)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const stored = new Set(rows.map((row) => row.id));
    expect(ids.every((id) => stored.has(id))).toBe(true);
    expect(((await dataSource.query('SELECT COUNT(*) AS n FROM app_orders')) as { n: number }[])[0].n).toBe(APP_WRITES);
  }, 60_000);
});
