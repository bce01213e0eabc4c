/**
 * PostgreSQL without pg_trgm: a real database of its own, opened by a role that may not
 * create extensions there (no CREATE privilege on the database; pg_trgm is a trusted
 * extension, so that privilege is all it would take). The schema migrates to its latest
 * version anyway, search scans (same answers), the reason is logged once, and the start
 * after an administrator installed the extension builds the indexes.
 */
import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { SCHEMA_VERSION } from '../../lib/persistence/typeorm/schema';
import { describeEachDatabase } from '../support/databases';
import { blankTask } from '../support/task-data';

describeEachDatabase(
  'search without pg_trgm',
  (target) => {
    const suffix = randomBytes(4).toString('hex');
    const database = `tf_notrgm_${suffix}`;
    const role = `tf_norights_${suffix}`;
    const adminUrl = (target.options as { url: string }).url;
    const urlFor = (user: string | null) => {
      const url = new URL(adminUrl);
      url.pathname = `/${database}`;
      if (user) url.username = user;
      return url.toString();
    };
    let admin: DataSource;

    beforeAll(async () => {
      admin = new DataSource({ type: 'postgres', url: adminUrl });
      await admin.initialize();
      await admin.query(`CREATE ROLE ${role} LOGIN`);
      await admin.query(`CREATE DATABASE ${database}`);
      await admin.query(`REVOKE CREATE ON DATABASE ${database} FROM PUBLIC`);
      const inside = new DataSource({ type: 'postgres', url: urlFor(null) });
      await inside.initialize();
      await inside.query(`GRANT CREATE, USAGE ON SCHEMA public TO ${role}`);
      await inside.destroy();
    });

    afterAll(async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
      await admin.destroy();
    });

    it('migrates and scans without the extension, then builds the indexes once it is installed', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      const options = { type: 'postgres' as const, url: urlFor(role) };
      const failed = blankTask({ funcName: 'Mail.send', status: 'failed', error: 'SMTP refused #5150' });
      const first = new TypeOrmTaskBackend(options);
      await first.open();
      try {
        const version = await first.source.query(`SELECT value FROM taskflow_meta WHERE name = 'schema_version'`);
        expect(String(version[0].value)).toBe(String(SCHEMA_VERSION));
        const messages = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('pg_trgm'));
        expect(messages).toHaveLength(1);
        expect(messages[0]).toMatch(/scans every row.*permission denied/);
        expect(await first.source.query(`SELECT indexname FROM pg_indexes WHERE indexname LIKE '%trgm'`)).toEqual([]);
        await first.saveBatch([failed, blankTask({ status: 'success' })]);
        expect((await first.listTasks({ q: 'refused #515' })).items.map((x) => x.id)).toEqual([failed.id]);
      } finally {
        await first.close();
        warn.mockRestore();
      }

      const inside = new DataSource({ type: 'postgres', url: urlFor(null) });
      await inside.initialize();
      await inside.query('CREATE EXTENSION pg_trgm');
      await inside.destroy();

      const second = new TypeOrmTaskBackend(options);
      await second.open();
      try {
        const indexes = await second.source.query(`SELECT indexname FROM pg_indexes WHERE indexname LIKE '%trgm' ORDER BY indexname`);
        expect(indexes.map((r: { indexname: string }) => r.indexname)).toEqual([
          'taskflow_search_args_trgm',
          'taskflow_search_search_trgm',
          'taskflow_search_tags_trgm',
        ]);
        expect((await second.listTasks({ q: 'refused #515' })).items.map((x) => x.id)).toEqual([failed.id]);
      } finally {
        await second.close();
      }
    });
  },
  ['postgres'],
);
