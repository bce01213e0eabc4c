export interface TypeOrmTaskBackendOptions {
  /** Prefix of every table (and index) name; letters, digits, `_`. Default `'taskflow_'`. */
  tablePrefix?: string;
  /**
   * Seconds taking a pooled connection, and each statement, may wait for the server
   * (PostgreSQL, MySQL) before the call fails and the connection is destroyed. Default
   * 5; `null` waits as long as the driver does. Schema migrations are exempt.
   */
  queryTimeout?: number | null;
}

export const DEFAULT_QUERY_TIMEOUT_SECONDS = 5;

export const DEFAULT_TABLE_PREFIX = 'taskflow_';
