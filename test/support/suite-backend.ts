import { DataSource } from 'typeorm';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { DatabaseTarget, uniquePrefix } from './databases';

export interface SuiteBackend {
  readonly prefix: string;
  dataSource: DataSource;
  backend: TypeOrmTaskBackend;
}

/**
 * A TypeORM backend on `target` under a fresh table prefix, opened before the suite's
 * tests and dropped and closed after them. Call inside a describe; read its fields in tests.
 */
export function suiteBackend(target: DatabaseTarget): SuiteBackend {
  const suite = { prefix: uniquePrefix() } as SuiteBackend;
  beforeAll(async () => {
    suite.dataSource = new DataSource(target.options);
    suite.backend = new TypeOrmTaskBackend(suite.dataSource, { tablePrefix: suite.prefix });
    await suite.backend.open();
  });
  afterAll(async () => {
    await suite.backend?.dropTables().catch(() => undefined);
    await suite.backend?.close();
    if (suite.dataSource?.isInitialized) await suite.dataSource.destroy();
  });
  return suite;
}
