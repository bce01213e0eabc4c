/** Every error text of the TypeORM backend, in one place. */
export const typeormMessages = {
  typeormMissing: () =>
    'nestjs-taskflow: a database is configured but the "typeorm" package is not installed; run `npm install typeorm` (and `better-sqlite3`, `pg` or `mysql2` for your database).',
  unsupportedType: (type: string) =>
    `nestjs-taskflow: database type "${type}" is not supported; use "better-sqlite3", "postgres", "mysql" or "mariadb".`,
  badPrefix: (prefix: string) =>
    `nestjs-taskflow: invalid tablePrefix ${JSON.stringify(prefix)}: use letters, digits and underscores (at most 40 characters).`,
  notOpen: () => 'nestjs-taskflow: the database backend is not open; call open() first.',
  schemaTooNew: (found: number, supported: number, table: string) =>
    `nestjs-taskflow: table ${table} says schema version ${found}, but this version of nestjs-taskflow only knows up to ${supported}; upgrade the package or use another tablePrefix.`,
  migrationLockTimeout: (name: string) =>
    `nestjs-taskflow: timed out waiting for the schema migration lock "${name}" (another instance is migrating?).`,
  noSkipLocked: (version: string) =>
    `nestjs-taskflow: ${version} has no SKIP LOCKED: concurrent claims and prunes will wait for each other (MySQL 8 or MariaDB 10.6+ recommended).`,
  notATransaction: () =>
    'nestjs-taskflow: enqueue({ transaction }) needs the EntityManager of an open transaction (the one dataSource.transaction(...) passes, or queryRunner.manager after startTransaction()).',
  otherDatabase: () =>
    "nestjs-taskflow: enqueue({ transaction }): that transaction is on another DataSource; it must be on the package's own database (the DataSource given as `database`).",
  idempotencyContention: (key: string) =>
    `nestjs-taskflow: could not settle idempotency key ${JSON.stringify(key)} after repeated concurrent changes.`,
};
