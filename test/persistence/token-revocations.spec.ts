import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { SCHEMA_VERSION } from '../../lib/persistence/typeorm/schema';
import { MemoryTaskBackend } from '../../lib/storage/memory-task.backend';
import { MemoryTaskStore } from '../../lib/storage/memory-task.store';
import { TaskBackend } from '../../lib/storage/task-backend';
import { DatabaseTarget, describeEachDatabase, uniquePrefix } from '../support/databases';
import { suiteBackend } from '../support/suite-backend';
import { seedSchemaVersion } from '../support/old-schema';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

/** The revocation contract every backend keeps. */
async function expectRevocations(backend: TaskBackend): Promise<void> {
  await backend.revokeToken('a', NOW + 60_000);
  await backend.revokeToken('b', NOW + 1_000);
  await backend.revokeToken('b', NOW + 120_000); // a second sign-out keeps the later expiry
  await backend.revokeToken('c', NOW - 1);
  expect((await backend.listRevokedTokens(NOW)).sort()).toEqual(['a', 'b']);
  expect(await backend.deleteExpiredRevocations(NOW + 60_001)).toBeGreaterThanOrEqual(1);
  // Once deleted, a revocation is gone even for a caller whose clock is behind.
  expect(await backend.listRevokedTokens(NOW)).toEqual(['b']);
  expect(await backend.listRevokedTokens(NOW + 120_000)).toEqual([]);
}

describe('token revocations in memory', () => {
  it('keeps each until its expiry', () => expectRevocations(new MemoryTaskBackend(new MemoryTaskStore(100))));
});

describeEachDatabase('token revocations in the database', (target: DatabaseTarget) => {
  const suite = suiteBackend(target);
  const { prefix } = suite;
  const quote = (name: string) => (target.name === 'mysql' ? `\`${name}\`` : `"${name}"`);

  it('keeps each until its expiry, seen by another instance', async () => {
    await expectRevocations(suite.backend);
    const other = new TypeOrmTaskBackend(suite.dataSource, { tablePrefix: prefix });
    await other.open();
    expect(await other.listRevokedTokens(NOW)).toEqual(['b']);
    await other.close();
  });

  it('upgrades a version 1 database in place: its rows stay, the revocation table is added', async () => {
    const old = uniquePrefix();
    const family = target.name === 'sqlite' ? 'sqlite' : target.name;
    // The tables exactly as version 1 of the package created them, with a row of history.
    await seedSchemaVersion((statement) => suite.dataSource.query(statement), family, old, 1);
    await suite.dataSource.query(`INSERT INTO ${quote(`${old}leases`)} (name, holder, expires_at) VALUES ('kept', 'me', ${NOW})`);

    const upgraded = new TypeOrmTaskBackend(suite.dataSource, { tablePrefix: old });
    try {
      await upgraded.open();
      const version = await suite.dataSource.query(`SELECT value FROM ${quote(`${old}meta`)} WHERE name = 'schema_version'`);
      expect(version.map((r: { value: string }) => String(r.value))).toEqual([String(SCHEMA_VERSION)]);
      const leases = await suite.dataSource.query(`SELECT name FROM ${quote(`${old}leases`)}`);
      expect(leases.map((r: { name: string }) => r.name)).toEqual(['kept']);
      await upgraded.revokeToken('after-upgrade', NOW + 1000);
      expect(await upgraded.listRevokedTokens(NOW)).toEqual(['after-upgrade']);
    } finally {
      await upgraded.dropTables();
      await upgraded.close();
    }
  });
});
