import { typeormMessages } from './typeorm.messages';

/** The table (and channel) names of one prefix: every module's SQL names its tables through these. */
export interface TableNames {
  meta: string;
  tasks: string;
  instances: string;
  leases: string;
  idempotency: string;
  audit: string;
  /** Row counts per (func_name, status): unfiltered and status/function totals. */
  counts: string;
  /** Duration histogram per (func_name, bucket): averages and percentiles. */
  durations: string;
  /** Signed-out token ids until their token's expiry (version 2). */
  revokedTokens: string;
  /** PostgreSQL: the NOTIFY channel of task changes (not a table). */
  changes: string;
  /** Paused function names (version 6). */
  paused: string;
  /** Concurrency slots and rate-limit rows of limited functions (version 6). */
  gateSlots: string;
  /** The substring-search index: SQLite FTS5 table, MySQL/MariaDB words per row (version 7; none on PostgreSQL). */
  search: string;
  /** SQLite: rows whose text the search index has yet to take in (version 7). */
  searchQueue: string;
}

export function tableNames(prefix: string): TableNames {
  if (!/^[A-Za-z0-9_]{0,40}$/.test(prefix)) throw new Error(typeormMessages.badPrefix(prefix));
  return {
    meta: `${prefix}meta`,
    tasks: `${prefix}tasks`,
    instances: `${prefix}instances`,
    leases: `${prefix}leases`,
    idempotency: `${prefix}idempotency`,
    audit: `${prefix}audit`,
    counts: `${prefix}counts`,
    durations: `${prefix}durations`,
    revokedTokens: `${prefix}revoked_tokens`,
    changes: `${prefix}changes`,
    paused: `${prefix}paused`,
    gateSlots: `${prefix}gate_slots`,
    search: `${prefix}search`,
    searchQueue: `${prefix}search_queue`,
  };
}
