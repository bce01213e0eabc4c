import type { DataSource, DataSourceOptions } from 'typeorm';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { MemoryTaskBackend } from '../storage/memory-task.backend';
import { MemoryTaskStore } from '../storage/memory-task.store';
import { TaskBackend } from '../storage/task-backend';

/**
 * The backend the options ask for: the user's own (`backend`), TypeORM with
 * `database` or `snapshotDb`, else memory over the engine's own records. TypeORM
 * and the drivers are optional peers, loaded only here, when a database is configured.
 */
export function createBackend(options: ResolvedTaskOptions, store: MemoryTaskStore): TaskBackend {
  if (options.backend) return options.backend;
  if (!options.database && !options.snapshotDb) return new MemoryTaskBackend(store);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { TypeOrmTaskBackend, sqliteOptions } = require('./typeorm') as typeof import('./typeorm');
  const source = options.database ?? sqliteOptions(options.snapshotDb!);
  const queryTimeoutMs = options.queryTimeout * 1000;
  return new TypeOrmTaskBackend(isDataSource(source) ? source : withTimeouts(source, queryTimeoutMs), {
    tablePrefix: options.tablePrefix,
    queryTimeout: options.queryTimeout,
  });
}

function isDataSource(value: object): value is DataSource {
  return 'initialize' in value && typeof (value as DataSource).initialize === 'function';
}

/**
 * Connections the package opens itself fail instead of hanging when the network
 * does (a partition): TCP keep-alive, a connect timeout of `queryTimeout`, and on pg
 * a client-side query timeout. The user's own settings win. The backend bounds every
 * runtime call by `queryTimeout` itself (on any DataSource, the user's too) and
 * destroys a connection that timed out, but a connect it gave up on still holds its
 * pool slot until the driver's own connect timeout: at 10 s, a pool whose slots were
 * all connecting into a partition stayed full 10 s after the network was back (seen
 * with a server that had dropped the connections). pg's `query_timeout` would leave a
 * timed-out client in the pool with its statement in flight, so it is only a backstop
 * well past `queryTimeout`, for what the backend does not bound (migrations). No
 * server-side `statement_timeout`: the server never hears from a partitioned client.
 */
function withTimeouts(source: DataSourceOptions, queryTimeoutMs: number): DataSourceOptions {
  if (source.type === 'postgres') {
    return {
      ...source,
      connectTimeoutMS: source.connectTimeoutMS ?? queryTimeoutMs,
      extra: { keepAlive: true, query_timeout: Math.max(60_000, 2 * queryTimeoutMs), ...(source.extra ?? {}) },
    };
  }
  if (source.type === 'mysql' || source.type === 'mariadb') {
    return { ...source, connectTimeout: source.connectTimeout ?? queryTimeoutMs, extra: { enableKeepAlive: true, ...(source.extra ?? {}) } };
  }
  return source;
}
