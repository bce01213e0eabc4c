import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { DataSource, DataSourceOptions, EntityManager } from 'typeorm';
import { AuditEntry } from '../../task/audit-entry';
import { TaskMetrics } from '../../task/task-metrics';
import { TaskPage, TaskQuery } from '../../task/task-query';
import { TaskData } from '../../task/task-record';
import { ChangeCursor, ChangeFeedKind, ChangeListener, ChangePage, StopListening, TaskChange } from '../../storage/change-feed';
import { TaskInsightQueries } from '../../storage/insight-queries';
import { InstanceState } from '../../storage/instance-state';
import { InsertedTask, TaskBackend } from '../../storage/task-backend';
import { GateAnswer, GateClaim } from '../../storage/gate-claims';
import * as audit from './audit';
import * as feed from './change-feed';
import * as claims from './claims';
import { Connection } from './connection';
import { BackendKind, SqlFamily } from './dialect';
import { detectDialect } from './server-dialect';
import { DEFAULT_QUERY_TIMEOUT_SECONDS, DEFAULT_TABLE_PREFIX, TypeOrmTaskBackendOptions } from './typeorm-backend-options';
import * as gates from './gates';
import * as idempotency from './idempotency';
import { TypeOrmInsights } from './insights';
import * as leases from './leases';
import { OwnSequences } from './own-sequences';
import * as sharedWork from './shared-work';
import { dropTables, migrate, TableNames, tableNames } from './schema';
import { pgRequeueEverything } from './pg-search';
import { PgSearchIndexer } from './pg-search-indexer';
import { requeueEverything, SearchIndexer } from './search-indexer';
import { WordRarity } from './search-rarity';
import * as revocations from './revocations';
import { PgChangeListener } from './pg-listener';
import { insertTask } from './task-inserts';
import * as reads from './task-reads';
import * as writes from './task-writes';
import { familyOf, isDataSource, loadTypeorm, pgPoolSize } from './data-source-kind';
import { typeormMessages } from './typeorm.messages';
import { registerSqliteFold } from './sqlite-fold';

export { DEFAULT_QUERY_TIMEOUT_SECONDS, DEFAULT_TABLE_PREFIX, TypeOrmTaskBackendOptions } from './typeorm-backend-options';

/** A pool this small keeps one write batch in flight: two would hold all but one connection. */
const MIN_POOL_FOR_TWO_WRITES = 4;

/**
 * Task history, requeue claims, idempotency keys, leases and audit in a SQL database
 * through TypeORM 1.x: SQLite (better-sqlite3), PostgreSQL (pg), MySQL 8 and
 * MariaDB 10.6+ (mysql2). Raw SQL, no entities: it works on any DataSource, including
 * one the application already uses for its own entities.
 *
 * Given `DataSourceOptions`, it creates, initializes and (in close()) destroys its own
 * DataSource. Given a `DataSource`, it initializes it only if needed and never destroys
 * it: the application owns it (and must keep it open until this backend is closed).
 *
 * Use: `open()` at startup (connects, creates or migrates the tables), `close()` last
 * at shutdown. Call `heartbeat(instanceId, ttl)` before `claimOrphans(instanceId, n)`
 * and then periodically: tasks whose owner has no live lease are claimable by others.
 * Listing order is `created_at DESC, id DESC`.
 */
export class TypeOrmTaskBackend extends TaskBackend {
  private readonly logger = new Logger('TaskflowDatabase');
  private readonly dataSource: DataSource;
  private readonly ownsDataSource: boolean;
  private readonly tables: TableNames;
  /** See TypeOrmTaskBackendOptions.queryTimeout. */
  readonly queryTimeoutMs: number | null;
  private readonly family: SqlFamily;
  private detectedKind: BackendKind;
  private connection: Connection | null = null;
  private opening: Promise<void> | null = null;
  private insightQueries: TypeOrmInsights | null = null;
  /** SQLite: folds queued rows into the search index while the writer is idle. */
  private indexer: SearchIndexer | PgSearchIndexer | null = null;
  readonly capabilities: { readonly persistent: true; readonly changeFeed: ChangeFeedKind; readonly writeBatchesInFlight: number };
  /** Names this backend's writes in its NOTIFY payloads, so its own listener skips them. */
  private readonly changeOrigin = randomUUID();
  /** The change sequence numbers of this backend's own writes, which its poller moves over (MySQL/SQLite). */
  private readonly ownSequences = new OwnSequences();
  /** MySQL/MariaDB: which words of a needle the search index is asked for (see search-rarity.ts). */
  private readonly wordRarity = new WordRarity((fn) => this.conn().read(fn));

  constructor(source: DataSourceOptions | DataSource, opts: TypeOrmTaskBackendOptions = {}) {
    super();
    this.tables = tableNames(opts.tablePrefix ?? DEFAULT_TABLE_PREFIX);
    const timeout = opts.queryTimeout === undefined ? DEFAULT_QUERY_TIMEOUT_SECONDS : opts.queryTimeout;
    this.queryTimeoutMs = timeout === null ? null : timeout * 1000;
    if (isDataSource(source)) {
      this.dataSource = source;
      this.ownsDataSource = false;
    } else {
      this.dataSource = new (loadTypeorm().DataSource)(source);
      this.ownsDataSource = true;
    }
    const type = String(this.dataSource.options.type);
    this.family = familyOf(type);
    this.detectedKind = this.family === 'mysql' ? (type === 'mariadb' ? 'mariadb' : 'mysql') : this.family;
    this.capabilities = {
      persistent: true,
      changeFeed: this.family === 'postgres' ? 'notify' : 'poll',
      // PostgreSQL: a second batch is written on another pooled connection while the first
      // commits (the server's second core works meanwhile), when the pool leaves connections
      // for reads, claims and heartbeats beside two writes. SQLite has one writer thread;
      // MySQL's polled feed would see its own change numbers commit out of order (gaps).
      writeBatchesInFlight: this.family === 'postgres' && pgPoolSize(this.dataSource.options) >= MIN_POOL_FOR_TWO_WRITES ? 2 : 1,
    };
  }

  /** 'sqlite' | 'postgres' | 'mysql' | 'mariadb' (MySQL vs MariaDB is read from the server at open()). */
  get kind(): string {
    return this.detectedKind;
  }

  /** Bounded queries on the indexes and aggregate tables (see TypeOrmInsights). */
  get insights(): TaskInsightQueries {
    return (this.insightQueries ??= new TypeOrmInsights(this));
  }

  /** The table names in use (for logs and tools). */
  get tableNames(): Readonly<TableNames> {
    return this.tables;
  }

  /** The DataSource in use (the caller's, or the one built from options). */
  get source(): DataSource {
    return this.dataSource;
  }

  /** Whether close() destroys the DataSource (true when built from options). */
  get ownsConnection(): boolean {
    return this.ownsDataSource;
  }

  open(): Promise<void> {
    if (this.connection) return Promise.resolve();
    this.opening ??= this.doOpen().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private async doOpen(): Promise<void> {
    if (!this.dataSource.isInitialized) await this.dataSource.initialize();
    if (this.family === 'sqlite') registerSqliteFold(this.dataSource);
    const { dialect, kind } = await detectDialect(this.dataSource, this.family, this.logger);
    if (kind) this.detectedKind = kind;
    const connection = new Connection(this.dataSource, dialect, this.queryTimeoutMs);
    await migrate(connection, this.tables);
    this.connection = connection;
    if (this.family === 'sqlite') this.indexer = new SearchIndexer(connection, this.tables);
    else if (this.family === 'postgres') this.indexer = new PgSearchIndexer(connection, this.tables);
    this.indexer?.start();
  }

  /** SQLite, PostgreSQL: folds every queued row into the search index now (searches are exact either way). */
  async indexSearch(): Promise<void> {
    await this.indexer?.drain();
  }

  /**
   * SQLite: indexes every row again, from scratch (after a VACUUM, which may renumber rowids);
   * PostgreSQL: queues every row again (after rows were written without the queue, e.g. by an
   * instance of an older version during an upgrade); a no-op on MySQL/MariaDB.
   */
  async rebuildSearchIndex(): Promise<void> {
    if (this.family === 'sqlite') await requeueEverything(this.conn(), this.tables);
    else if (this.family === 'postgres') await this.conn().transaction((sql) => sql.run(pgRequeueEverything(this.tables)));
  }

  async close(): Promise<void> {
    if (this.opening) await this.opening.catch(() => undefined);
    this.connection = null;
    await this.indexer?.stop();
    this.indexer = null;
    await Connection.closeWriter(this.dataSource);
    if (this.ownsDataSource && this.dataSource.isInitialized) await this.dataSource.destroy();
  }

  /** Drops every table of this prefix (tests, uninstall). The backend must be open. */
  async dropTables(): Promise<void> {
    await dropTables(this.conn(), this.tables);
  }

  private conn(): Connection {
    if (!this.connection) throw new Error(typeormMessages.notOpen());
    return this.connection;
  }

  async saveBatch(tasks: readonly TaskData[]): Promise<void> {
    const write = () => writes.saveBatch(this.conn(), this.tables, tasks, this.changeOrigin, this.ownSequences);
    return this.indexer ? this.indexer.writing(tasks.length, write) : write();
  }

  async getTask(id: string): Promise<TaskData | null> {
    return reads.getTask(this.conn(), this.tables, id);
  }

  async listTasks(query: TaskQuery): Promise<TaskPage<TaskData>> {
    return reads.listTasks(this.conn(), this.tables, query, this.wordRarity);
  }

  async metrics(): Promise<TaskMetrics> {
    return reads.metrics(this.conn(), this.tables);
  }

  async deleteTerminalBefore(cutoff: number, batchSize: number): Promise<string[]> {
    // Counted as a write: the deleted rows are queued for the indexer.
    const write = () => writes.deleteTerminalBefore(this.conn(), this.tables, cutoff, batchSize);
    return this.indexer ? this.indexer.writing(batchSize, write) : write();
  }

  async claimOrphans(instanceId: string, limit: number, includePool = true): Promise<TaskData[]> {
    return claims.claimOrphans(this.conn(), this.tables, instanceId, limit, true, includePool);
  }

  async claimAbandoned(instanceId: string, limit: number): Promise<TaskData[]> {
    return claims.claimOrphans(this.conn(), this.tables, instanceId, limit, false);
  }

  async heartbeat(instanceId: string, ttlSeconds: number): Promise<void> {
    return claims.heartbeat(this.conn(), this.tables, instanceId, ttlSeconds);
  }

  override async stillOwned(instanceId: string, ids: readonly string[]): Promise<string[]> {
    return claims.stillOwned(this.conn(), this.tables, instanceId, ids);
  }

  override async offerToPool(instanceId: string, ids: readonly string[]): Promise<string[]> {
    return sharedWork.offerToPool(this.conn(), this.tables, instanceId, ids);
  }

  override async claimFromPool(instanceId: string, limit: number, funcNames: readonly string[]): Promise<TaskData[]> {
    return sharedWork.claimFromPool(this.conn(), this.tables, instanceId, limit, funcNames);
  }

  override async cancelledSince(owner: string, since: number): Promise<{ id: string; version: number }[]> {
    return sharedWork.cancelledSince(this.conn(), this.tables, owner, since);
  }

  async removeInstance(instanceId: string): Promise<void> {
    return claims.removeInstance(this.conn(), this.tables, instanceId);
  }

  async listInstances(): Promise<{ id: string; leaseUntil: number }[]> {
    return claims.listInstances(this.conn(), this.tables);
  }

  override async describeInstances(): Promise<InstanceState[]> {
    return claims.describeInstances(this.conn(), this.tables);
  }

  override async getTasks(ids: readonly string[]): Promise<TaskData[]> {
    return feed.getTasks(this.conn(), this.tables, ids);
  }

  /** MySQL/MariaDB and SQLite (PostgreSQL keeps no change sequence: it notifies). */
  override async changeCursor(): Promise<ChangeCursor> {
    return this.family === 'postgres' ? super.changeCursor() : feed.changeCursor(this.conn(), this.tables);
  }

  override async changesAfter(cursor: ChangeCursor, limit: number): Promise<ChangePage> {
    return this.family === 'postgres'
      ? super.changesAfter(cursor, limit)
      : feed.changesAfter(this.conn(), this.tables, cursor, limit, this.ownSequences);
  }

  override async changesAt(seqs: readonly number[]): Promise<TaskChange[]> {
    return this.family === 'postgres' ? super.changesAt(seqs) : feed.changesAt(this.conn(), this.tables, seqs);
  }

  override async changedSince(since: number, limit: number): Promise<TaskChange[]> {
    return feed.changedSince(this.conn(), this.tables, since, limit);
  }

  /** PostgreSQL: LISTEN on one pooled connection kept for it (see PgChangeListener); elsewhere nothing is pushed. */
  override async listenForChanges(listener: ChangeListener): Promise<StopListening> {
    if (this.family !== 'postgres') return super.listenForChanges(listener);
    this.conn();
    const listening = new PgChangeListener(this.dataSource, this.tables.changes, this.changeOrigin, this.queryTimeoutMs ?? 5000, listener);
    await listening.start();
    return () => listening.stop();
  }

  async reserveIdempotencyKey(key: string, taskId: string): Promise<string> {
    return idempotency.reserveIdempotencyKey(this.conn(), this.tables, key, taskId);
  }

  /** `transaction`: an EntityManager of an open transaction on this backend's DataSource. */
  override async insertTask(task: TaskData, transaction?: unknown): Promise<InsertedTask> {
    const write = () => insertTask(this.conn(), this.tables, task, transaction as EntityManager | undefined);
    return this.indexer ? this.indexer.writing(1, write) : write();
  }

  async tryAcquireLease(name: string, holder: string, ttlSeconds: number): Promise<boolean> {
    return leases.tryAcquireLease(this.conn(), this.tables, name, holder, ttlSeconds);
  }

  async deleteExpiredLeases(before: number): Promise<number> {
    return leases.deleteExpiredLeases(this.conn(), this.tables, before);
  }

  override async revokeToken(jti: string, untilEpochMs: number): Promise<void> {
    return revocations.revokeToken(this.conn(), this.tables, jti, untilEpochMs);
  }

  override async listRevokedTokens(now: number): Promise<string[]> {
    return revocations.listRevokedTokens(this.conn(), this.tables, now);
  }

  override async deleteExpiredRevocations(before: number): Promise<number> {
    return revocations.deleteExpiredRevocations(this.conn(), this.tables, before);
  }

  override async claimGate(holder: string, claim: GateClaim): Promise<GateAnswer> {
    return gates.claimGate(this.conn(), this.tables, holder, claim);
  }

  override async settleRateSlot(
    holder: string,
    funcName: string,
    key: string,
    slot: number,
    startedAt: number | null,
    windowMs: number,
  ): Promise<void> {
    return gates.settleRateSlot(this.conn(), this.tables, holder, funcName, key, slot, startedAt, windowMs);
  }

  override async releaseGateSlot(holder: string, funcName: string, slot: number): Promise<void> {
    return gates.releaseGateSlot(this.conn(), this.tables, holder, funcName, slot);
  }

  override async pruneGateSlots(before: number): Promise<number> {
    return gates.pruneGateSlots(this.conn(), this.tables, before);
  }

  override async pausedFunctions(): Promise<string[]> {
    return gates.pausedFunctions(this.conn(), this.tables);
  }

  override async setPaused(funcName: string, paused: boolean): Promise<void> {
    return gates.setPaused(this.conn(), this.tables, funcName, paused);
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    return audit.appendAudit(this.conn(), this.tables, entry);
  }

  async listAudit(limit: number, offset: number): Promise<AuditEntry[]> {
    return audit.listAudit(this.conn(), this.tables, limit, offset);
  }
}
