import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { sqliteOptions, TypeOrmTaskBackend } from '../../lib';
import { ftsMatch } from '../../lib/persistence/typeorm/search-terms';
import { CrashChild, killAllChildren } from '../support/crash-child';

/**
 * A fold of SQLite's search queue is one transaction: killed in the middle of one (SIGKILL
 * while it holds the write lock, after earlier folds committed), the file holds each row
 * either in the index (once) or still in the queue, so a search finds every row, and the
 * next fold finishes the queue.
 */
const FIXTURE = path.join(__dirname, 'fixtures', 'fold-app.ts');
const ROWS = 40_000;
const NEEDLE = 'fold-crash-needle';

/** Whether another connection holds the write lock (taken and given back at once if free). */
function lockHeld(db: Database.Database): boolean {
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (error) {
    if (String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY')) return true;
    throw error;
  }
  db.exec('ROLLBACK');
  return false;
}

describe('SQLite search fold killed mid-fold', () => {
  afterEach(() => killAllChildren());

  it('leaves every row in the index or in the queue, never neither, and the next fold finishes', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'taskflow-fold-')), 'tasks.db');
    const t = new TypeOrmTaskBackend(sqliteOptions(file)).tableNames;
    const child = CrashChild.start('fold', { file, rows: ROWS, needle: NEEDLE }, { fixture: FIXTURE });
    await child.waitFor((e) => (e as { ev: string }).ev === 'seeded', 90_000, '"seeded"');
    const probe = new Database(file);
    probe.pragma('busy_timeout = 0');
    const queued = () => (probe.prepare(`SELECT COUNT(*) AS n FROM "${t.searchQueue}"`).get() as { n: number }).n;
    const indexed = () =>
      (probe.prepare(`SELECT COUNT(*) AS n FROM "${t.search}" WHERE "${t.search}" MATCH ?`).get(ftsMatch(NEEDLE)) as { n: number }).n;
    // The child only folds now: the lock held means a fold under way; one has committed already.
    let killed = false;
    while (child.alive && !killed) {
      if (queued() < ROWS && lockHeld(probe)) {
        await child.kill();
        killed = true;
      } else await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(killed).toBe(true); // else the child folded everything first
    const left = queued();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(ROWS);
    expect(indexed()).toBe(ROWS - left);

    const backend = new TypeOrmTaskBackend(sqliteOptions(file));
    await backend.open();
    try {
      expect((await backend.listTasks({ q: NEEDLE, limit: 1 })).total).toBe(ROWS);
      await backend.indexSearch();
      expect(queued()).toBe(0);
      expect(indexed()).toBe(ROWS);
      expect((await backend.listTasks({ q: NEEDLE, limit: 1 })).total).toBe(ROWS);
    } finally {
      probe.close();
      await backend.close();
    }
  }, 180_000);
});
