import { AuditEntry } from '../task/audit-entry';
import { TaskData } from '../task/task-record';
import { TaskMetrics } from '../task/task-metrics';
import { TaskPage, TaskQuery } from '../task/task-query';
import { ChangeCursor, ChangeFeedKind, ChangeListener, ChangePage, StopListening, TaskChange } from './change-feed';
import { GateAnswer, GateClaim, LOCAL_GRANT } from './gate-claims';
import { TaskInsightQueries } from './insight-queries';
import { InstanceState } from './instance-state';
import { RevokedTokens } from './revoked-tokens';

/** What a backend can do, declared rather than discovered. */
export interface BackendCapabilities {
  /**
   * True when records live outside this process (a database): every change is
   * written behind in batches, reads go to the backend (and fall back to memory
   * when it cannot be reached), idempotency keys, leases and recovery of another
   * instance's tasks span every instance using it. False for the memory backend:
   * it reads the records the engine already keeps, nothing is written to it, and
   * claims return nothing.
   */
  readonly persistent: boolean;
  /**
   * How other instances' task changes reach this one (see change-feed.ts): `'notify'`
   * (listenForChanges), `'poll'` (changeCursor, changesAfter, changesAt), either with changedSince
   * and getTasks, or absent: each instance's live stream shows its own changes only
   * (REST still reads the backend).
   */
  readonly changeFeed?: ChangeFeedKind;
  /**
   * Batches the write-behind may have in flight at once, on connections of their own, each
   * with task ids no other holds (absent: 1). More than one only where concurrent write
   * transactions of one instance are safe and gain: PostgreSQL.
   */
  readonly writeBatchesInFlight?: number;
}

/** What TaskBackend.insertTask did. */
export interface InsertedTask {
  /** The id holding the task's idempotency key afterwards: the task's own when its row was written. */
  holder: string;
  /**
   * Only for a row written into the application's transaction: resolves true once
   * that transaction commits, false if it rolls back (the row is then gone).
   */
  outcome?: Promise<boolean>;
}

/**
 * Where task history is kept: everything the engine asks of storage. An abstract
 * class so it is the DI token (as nestjs/throttler does with its storage): the
 * module provides the memory one, the TypeORM one when `database`/`snapshotDb` is
 * set, or the user's own (`backend` option, or `overrideProvider(TaskBackend)`).
 * Every method may reject on a database error: the engine retries and never lets
 * that reach the host app.
 */
export abstract class TaskBackend {
  /** 'memory' | 'sqlite' | 'postgres' | 'mysql' | 'mariadb' | a custom name: shown in logs and the dashboard. */
  abstract readonly kind: string;

  abstract readonly capabilities: BackendCapabilities;

  /** The dashboard's bounded queries, or null when this backend has none. */
  abstract readonly insights: TaskInsightQueries | null;

  /** Connects (unless given an initialized DataSource) and creates or migrates tables. */
  abstract open(): Promise<void>;

  /** Closes the connection, unless the user owns it. */
  abstract close(): Promise<void>;

  /**
   * Upserts every task in one transaction. A stored row with a higher `version`
   * is kept, so a late write never regresses a task another writer moved on.
   */
  abstract saveBatch(tasks: readonly TaskData[]): Promise<void>;

  abstract getTask(id: string): Promise<TaskData | null>;

  /** The list filters (status, function, q, search, tags, since), newest `createdAt` first, with the total ignoring paging. */
  abstract listTasks(query: TaskQuery): Promise<TaskPage<TaskData>>;

  /** The metrics of `GET {path}/metrics` over every stored row. */
  abstract metrics(): Promise<TaskMetrics>;

  /**
   * Deletes up to `batchSize` terminal rows whose end time (created time when it
   * has none) is before `cutoff`; returns their ids. Callers loop until fewer than
   * `batchSize` come back, so a large prune never holds one long transaction.
   */
  abstract deleteTerminalBefore(cutoff: number, batchSize: number): Promise<string[]>;

  /**
   * Atomically takes ownership of durable unfinished tasks (pending or running)
   * that have no owner or whose owner's lease expired, and returns them. Each task
   * is claimed by exactly one caller. With `includePool` false, pending tasks with no
   * owner (the pool every instance with free slots claims from) are left out.
   */
  abstract claimOrphans(instanceId: string, limit: number, includePool?: boolean): Promise<TaskData[]>;

  /**
   * The same for tasks that are not durable: a dead instance left them pending or
   * running, and they will not run again; the caller marks them interrupted.
   */
  abstract claimAbandoned(instanceId: string, limit: number): Promise<TaskData[]>;

  /** Records that `instanceId` is alive until now + ttl seconds. */
  abstract heartbeat(instanceId: string, ttlSeconds: number): Promise<void>;

  /** Forgets an instance (clean shutdown, or known dead); its remaining tasks become claimable. */
  abstract removeInstance(instanceId: string): Promise<void>;

  /**
   * Which of `ids` are still `instanceId`'s (after its lease lapsed, before it starts
   * them): those whose row it owns, and those with no row at all (a first write still on
   * its way, or failed and to be retried: nobody else can have claimed them, and leaving
   * them out would lose them). Those whose row has another owner, or none, are not.
   * Without shared storage nobody else can take them: all of them.
   */
  async stillOwned(instanceId: string, ids: readonly string[]): Promise<string[]> {
    void instanceId;
    return [...ids];
  }

  /**
   * Hands pending durable tasks owned by `instanceId` to the pool every instance claims
   * from; returns the ids handed over. Without shared storage: none (nobody else could run them).
   */
  async offerToPool(instanceId: string, ids: readonly string[]): Promise<string[]> {
    void instanceId;
    void ids;
    return [];
  }

  /**
   * Claims up to `limit` pooled tasks of `funcNames` that are due (`runAt` absent, null,
   * or at or before the caller's clock), highest priority then oldest first; each goes to
   * one caller. A pooled task not due yet stays in the pool until it is.
   */
  async claimFromPool(instanceId: string, limit: number, funcNames: readonly string[]): Promise<TaskData[]> {
    void instanceId;
    void limit;
    void funcNames;
    return [];
  }

  /**
   * Cancelled rows owned by `owner` that ended (by the canceller's clock) at or after
   * `since`, with their versions: how an owner learns that another instance cancelled
   * one of its tasks. Without shared storage: none.
   */
  async cancelledSince(owner: string, since: number): Promise<{ id: string; version: number }[]> {
    void owner;
    void since;
    return [];
  }

  /** Every known instance and when its lease ends (epoch ms). */
  abstract listInstances(): Promise<{ id: string; leaseUntil: number }[]>;

  /**
   * Every known instance with its lease state and the pending and running tasks it owns
   * (`GET {path}/instances`). The default reads listInstances (alive by this process's
   * clock; no start or heartbeat times) and counts with listTasks.
   */
  async describeInstances(): Promise<InstanceState[]> {
    const now = Date.now();
    const states: InstanceState[] = [];
    for (const { id, leaseUntil } of await this.listInstances()) {
      const count = async (status: 'pending' | 'running') => (await this.listTasks({ status, instance: id, limit: 1 })).total;
      states.push({
        id,
        leaseUntil,
        startedAt: null,
        lastHeartbeat: null,
        alive: leaseUntil >= now,
        pending: await count('pending'),
        running: await count('running'),
      });
    }
    return states;
  }

  /** The rows of `ids` that exist, in any order (the change feed reads in batches). */
  async getTasks(ids: readonly string[]): Promise<TaskData[]> {
    const found = await Promise.all(ids.map((id) => this.getTask(id)));
    return found.filter((task): task is TaskData => task !== null);
  }

  /** `changeFeed: 'poll'`: the cursor after every change written so far. */
  async changeCursor(): Promise<ChangeCursor> {
    return { seq: 0, id: null };
  }

  /** `changeFeed: 'poll'`: up to `limit` changes after `cursor`, oldest first. */
  async changesAfter(cursor: ChangeCursor, limit: number): Promise<ChangePage> {
    void limit;
    return { changes: [], cursor };
  }

  /** `changeFeed: 'poll'`: the rows carrying any of these sequence numbers (gaps a reader waits on). */
  async changesAt(seqs: readonly number[]): Promise<TaskChange[]> {
    void seqs;
    return [];
  }

  /**
   * `changeFeed: 'notify'`: calls `listener` with the ids of tasks other writers change,
   * as their writes commit, and with `{ missedSince }` after a break (a dropped
   * connection, once it is back); resolves once listening, with the way to stop.
   */
  async listenForChanges(listener: ChangeListener): Promise<StopListening> {
    void listener;
    return async () => undefined;
  }

  /**
   * What may have changed since `since` (epoch ms): unfinished tasks and those ended
   * since, at most `limit` (read after lost notices, and when a first stream opens).
   */
  async changedSince(since: number, limit: number): Promise<TaskChange[]> {
    void since;
    void limit;
    return [];
  }

  /**
   * Binds `key` to `taskId` unless a task that is neither failed, interrupted nor
   * cancelled already holds it; returns the id that holds the key afterwards.
   * Races between instances are settled by a unique constraint.
   */
  abstract reserveIdempotencyKey(key: string, taskId: string): Promise<string>;

  /**
   * A named lease (retention round, schedule slot): true for exactly one holder
   * until it expires after `ttlSeconds`.
   */
  abstract tryAcquireLease(name: string, holder: string, ttlSeconds: number): Promise<boolean>;

  /** Deletes leases that expired before `before` (epoch ms), so slot leases do not pile up. */
  abstract deleteExpiredLeases(before: number): Promise<number>;

  /**
   * Optional (durable `enqueue`): writes a new task's row at once, after binding its
   * idempotency key if it has one (a key held by a pending, running or successful
   * task returns that holder and writes nothing), in one transaction: its own, or
   * `transaction`, a handle of the application's open transaction (for the TypeORM
   * backend, an EntityManager on its DataSource). Without it, enqueue waits for the
   * write-behind instead and cannot take a transaction.
   */
  insertTask?(task: TaskData, transaction?: unknown): Promise<InsertedTask>;

  abstract appendAudit(entry: AuditEntry): Promise<void>;

  /** Newest first. */
  abstract listAudit(limit: number, offset: number): Promise<AuditEntry[]>;

  /**
   * Flow control across instances (see GateClaim): takes a concurrency slot for `holder`
   * and reserves a rate row, both or neither. The engine has already applied every limit
   * within its own process; the default, for a backend no other instance shares, grants.
   */
  async claimGate(holder: string, claim: GateClaim): Promise<GateAnswer> {
    void holder;
    void claim;
    return LOCAL_GRANT;
  }

  /** Records the real start (epoch ms) of a task on the rate row its claim reserved; null: it never started. */
  async settleRateSlot(holder: string, funcName: string, key: string, slot: number, startedAt: number | null, windowMs: number): Promise<void> {
    void [holder, funcName, key, slot, startedAt, windowMs];
  }

  /** Gives back a concurrency slot `holder` took. */
  async releaseGateSlot(holder: string, funcName: string, slot: number): Promise<void> {
    void [holder, funcName, slot];
  }

  /** Forgets flow-control rows unused since before `before` (epoch ms); returns how many went. */
  async pruneGateSlots(before: number): Promise<number> {
    void before;
    return 0;
  }

  private readonly pausedInMemory = new Set<string>();

  /**
   * The paused function names. The default keeps them in this process: a backend shared
   * by several instances (and outliving restarts) overrides both methods.
   */
  async pausedFunctions(): Promise<string[]> {
    return [...this.pausedInMemory];
  }

  async setPaused(funcName: string, paused: boolean): Promise<void> {
    if (paused) this.pausedInMemory.add(funcName);
    else this.pausedInMemory.delete(funcName);
  }

  private readonly revokedInMemory = new RevokedTokens();

  /**
   * Records that the token `jti` was signed out; it stays refused until
   * `untilEpochMs` (its own expiry). The default keeps the list in this process:
   * a backend shared by several instances overrides the three revocation methods
   * so a sign-out on one is honoured by all.
   */
  async revokeToken(jti: string, untilEpochMs: number): Promise<void> {
    this.revokedInMemory.revoke(jti, untilEpochMs);
  }

  /** The ids of every token signed out whose expiry is after `now` (epoch ms). */
  async listRevokedTokens(now: number): Promise<string[]> {
    return this.revokedInMemory.active(now);
  }

  /** Forgets revocations whose token expired before `before` (epoch ms); returns how many went. */
  async deleteExpiredRevocations(before: number): Promise<number> {
    return this.revokedInMemory.deleteExpired(before);
  }
}
