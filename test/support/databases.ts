import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DataSourceOptions } from 'typeorm';

/**
 * The databases tests run against: SQLite in a temp file (always there), PostgreSQL at
 * TASKFLOW_PG_URL and MySQL/MariaDB at TASKFLOW_MYSQL_URL. A server that does not
 * answer within ~2 s is reported unavailable: its suites are skipped with a console
 * message, unless CI is set, in which case they fail.
 */
export type DatabaseName = 'sqlite' | 'postgres' | 'mysql';

export interface DatabaseTarget {
  name: DatabaseName;
  /** Options for a DataSource on this database (SQLite: a fresh temp file per call). */
  options: DataSourceOptions;
  available: boolean;
  /** Why it is unavailable. */
  reason?: string;
  /** Removes what the target created locally (the SQLite temp dir). */
  dispose(): void;
}

const PG_DEFAULTS = ['postgres://postgres@127.0.0.1:5432/test', 'postgres://root@127.0.0.1:5432/test'];
const MYSQL_DEFAULT = 'mysql://root@127.0.0.1:3306/test';

interface Probe {
  url: string | null;
  error: string | null;
}

let probed: { postgres: Probe; mysql: Probe } | null = null;

/** Connects to each server once per test file, synchronously (jest collects tests synchronously). */
function probeServers(): { postgres: Probe; mysql: Probe } {
  if (probed) return probed;
  const pgUrls = process.env.TASKFLOW_PG_URL ? [process.env.TASKFLOW_PG_URL] : PG_DEFAULTS;
  const mysqlUrl = process.env.TASKFLOW_MYSQL_URL || MYSQL_DEFAULT;
  const script = `
    const pg = require('pg');
    const mysql = require('mysql2/promise');
    const [pgUrls, mysqlUrl] = JSON.parse(process.argv[1]);
    const msg = (e) => (e && (e.message || e.code)) || String(e);
    async function tryPg() {
      let last = 'no URL';
      for (const url of pgUrls) {
        const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
        try { await client.connect(); await client.query('SELECT 1'); return { url, error: null }; }
        catch (e) { last = url + ': ' + msg(e); }
        finally { client.end().catch(() => {}); }
      }
      return { url: null, error: last };
    }
    async function tryMysql() {
      let conn;
      try { conn = await mysql.createConnection({ uri: mysqlUrl, connectTimeout: 2000 }); await conn.query('SELECT 1'); return { url: mysqlUrl, error: null }; }
      catch (e) { return { url: null, error: mysqlUrl + ': ' + msg(e) }; }
      finally { if (conn) conn.end().catch(() => {}); }
    }
    Promise.all([tryPg(), tryMysql()]).then(([postgres, mysql]) => {
      process.stdout.write(JSON.stringify({ postgres, mysql }));
      process.exit(0);
    });
  `;
  const result = spawnSync(process.execPath, ['-e', script, JSON.stringify([pgUrls, mysqlUrl])], {
    cwd: path.resolve(__dirname, '..', '..'),
    encoding: 'utf8',
    timeout: 10_000,
  });
  try {
    probed = JSON.parse(result.stdout);
  } catch {
    const error = `probe failed: ${result.error?.message ?? result.stderr ?? 'no output'}`;
    probed = { postgres: { url: null, error }, mysql: { url: null, error } };
  }
  return probed!;
}

export function isCi(): boolean {
  const ci = process.env.CI;
  return !!ci && ci !== 'false' && ci !== '0';
}

export function databaseTargets(): DatabaseTarget[] {
  const servers = probeServers();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskflow-test-'));
  return [
    {
      name: 'sqlite',
      options: { type: 'better-sqlite3', database: path.join(dir, 'tasks.db'), enableWAL: true, timeout: 5000 },
      available: true,
      dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
    },
    {
      name: 'postgres',
      options: { type: 'postgres', url: servers.postgres.url ?? PG_DEFAULTS[0] },
      available: servers.postgres.url !== null,
      reason: servers.postgres.error ?? undefined,
      dispose: () => undefined,
    },
    {
      name: 'mysql',
      options: { type: 'mysql', url: servers.mysql.url ?? MYSQL_DEFAULT },
      available: servers.mysql.url !== null,
      reason: servers.mysql.error ?? undefined,
      dispose: () => undefined,
    },
  ];
}

/**
 * `describe(title [name], fn)` for every target (or those of `only`): skipped with a
 * console message when the server is unreachable, or a failing test in its place when CI is set.
 */
export function describeEachDatabase(title: string, fn: (target: DatabaseTarget) => void, only?: readonly DatabaseName[]): void {
  for (const target of databaseTargets()) {
    if (only && !only.includes(target.name)) {
      target.dispose();
      continue;
    }
    const name = `${title} [${target.name}]`;
    if (target.available) {
      describe(name, () => {
        afterAll(() => target.dispose());
        fn(target);
      });
    } else if (isCi()) {
      describe(name, () => {
        it('has its database server reachable (CI is set, so this is a failure, not a skip)', () => {
          throw new Error(`${target.name} unreachable: ${target.reason}`);
        });
      });
    } else {
      console.warn(`Skipping "${name}": ${target.name} is unreachable (${target.reason}). Set CI=true to make this a failure.`);
      describe.skip(name, () => fn(target));
    }
  }
}

/** A table prefix no other run uses. */
export function uniquePrefix(): string {
  return `tf_${Math.random().toString(36).slice(2, 10)}_`;
}
