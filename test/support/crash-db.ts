import type { DataSourceOptions } from 'typeorm';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { DatabaseName, DatabaseTarget, describeEachDatabase } from './databases';

export interface TaskRow {
  id: string;
  status: string;
  owner: string | null;
  error: string | null;
  durable: number;
  version: number;
}

/**
 * A direct view of one prefix's tasks table, through its own DataSource (the test's
 * witness of what is really in the database, independent of any app).
 */
export class TaskTable {
  private constructor(readonly backend: TypeOrmTaskBackend) {}

  /** Opens (and creates the tables if needed). */
  static async open(database: DataSourceOptions, prefix: string): Promise<TaskTable> {
    const backend = new TypeOrmTaskBackend(database, { tablePrefix: prefix });
    await backend.open();
    return new TaskTable(backend);
  }

  async rows(): Promise<TaskRow[]> {
    const table = this.backend.tableNames.tasks;
    const rows = (await this.backend.source.query(`SELECT id, status, owner, error, durable, version FROM ${table}`)) as Record<string, unknown>[];
    return rows.map((r) => ({
      id: String(r.id),
      status: String(r.status),
      owner: r.owner === null || r.owner === undefined ? null : String(r.owner),
      error: r.error === null || r.error === undefined ? null : String(r.error),
      durable: Number(r.durable),
      version: Number(r.version),
    }));
  }

  async byId(): Promise<Map<string, TaskRow>> {
    return new Map((await this.rows()).map((r) => [r.id, r]));
  }

  /** Drops the prefix's tables and closes. */
  async dropAndClose(): Promise<void> {
    await this.backend.dropTables().catch(() => undefined);
    await this.backend.close();
  }

  async close(): Promise<void> {
    await this.backend.close();
  }
}

/**
 * Like describeEachDatabase, restricted to some of the databases (skip with a
 * message when a server is unreachable, fail instead when CI is set).
 */
export function describeEachOf(names: DatabaseName[], title: string, fn: (target: DatabaseTarget) => void): void {
  describeEachDatabase(title, fn, names);
}

/** The same server options with host and port replaced (to go through a proxy). */
export function throughPort(options: DataSourceOptions, port: number): DataSourceOptions {
  const url = (options as { url?: string }).url;
  if (!url) throw new Error('throughPort needs url-based options');
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  return { ...options, url: parsed.toString() } as DataSourceOptions;
}

/** Where the server really listens (host, port) for url-based options. */
export function serverAddress(options: DataSourceOptions): { host: string; port: number } {
  const parsed = new URL((options as { url: string }).url);
  const defaultPort = options.type === 'postgres' ? 5432 : 3306;
  return { host: parsed.hostname, port: Number(parsed.port || defaultPort) };
}
