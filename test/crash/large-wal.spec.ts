import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { sqliteOptions, TypeOrmTaskBackend } from '../../lib';
import { CrashChild, killAllChildren } from '../support/crash-child';

/**
 * The SQLite writer thread checkpoints the WAL itself, off the COMMIT path, so more of the
 * committed work may sit in the WAL alone than when SQLite checkpointed inside COMMIT.
 * Killed (SIGKILL) while writing with tens of MB of WAL that no checkpoint has folded into
 * the database file, the app loses no committed row: the next open reads them from the WAL.
 */
const FIXTURE = path.join(__dirname, 'fixtures', 'wal-app.ts');
const WAL_BYTES = 20_000_000;

interface Written {
  ev: 'written';
  rows: number;
  walBytes: number;
}

describe('SQLite killed with a large WAL', () => {
  afterEach(() => killAllChildren());

  it('loses no committed row: the next open finds every one in the WAL', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskflow-wal-'));
    const file = path.join(dir, 'tasks.db');
    try {
      const child = CrashChild.start('wal', { file, checkpointPages: 1_000_000 }, { fixture: FIXTURE });
      const event = await child.waitFor(
        (e) => (e as { ev: string }).ev === 'written' && (e as unknown as Written).walBytes > WAL_BYTES,
        120_000,
        `a WAL of ${WAL_BYTES} bytes`,
      );
      const written = event as unknown as Written;
      await child.kill(); // with the next batch under way
      expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(WAL_BYTES);
      // The database file alone (a copy, opened without the WAL) does not hold the rows.
      const copy = path.join(dir, 'main-only.db');
      fs.copyFileSync(file, copy);
      const probe = new Database(copy, { readonly: true });
      const tables = probe.prepare('SELECT COUNT(*) AS n FROM sqlite_master').get() as { n: number };
      probe.close();
      expect(tables.n).toBe(0);

      const backend = new TypeOrmTaskBackend(sqliteOptions(file));
      await backend.open();
      try {
        const total = (await backend.listTasks({ limit: 1 })).total;
        // Every committed batch; the one under way at the kill is there whole or not at all.
        expect(total).toBeGreaterThanOrEqual(written.rows);
        expect(total % 5000).toBe(0);
        expect((await backend.listTasks({ funcName: 'Wal.job3', limit: 1 })).total).toBe(Math.floor((total + 3) / 7));
      } finally {
        await backend.close();
      }
      // Closed cleanly, the WAL is folded into the database file.
      expect(fs.statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
