import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { LOGGER_CONTEXT, TASKFLOW_OPTIONS } from '../constants';
import { TaskRegistry } from '../discovery/task.registry';
import { TaskRuntime } from '../engine/task-runtime';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { TaskData } from '../task/task-record';
import { createBackend } from './create-backend';
import { DatabaseHistory } from '../storage/database-history';
import { TaskBackend } from '../storage/task-backend';
import { WriteBehind } from '../storage/write-behind';

const CLAIM_BATCH = 500;
const LEASE_PRUNE_EVERY_MS = 3600_000;
/** How long shutdown keeps trying to write what is queued. */
const FINAL_WRITE_MS = 10_000;

/**
 * Connects the engine to the database: opens it, requeues what a previous run
 * or a dead instance left unfinished, keeps this instance's lease alive, and at
 * shutdown hands unfinished durable tasks back and writes everything out.
 */
@Injectable()
export class TaskPersistence {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  /** `host/pid/random`, plus `/scope` where the pid space can be identified (see pidScope). */
  readonly instanceId = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}${PID_SCOPE ? `/${PID_SCOPE}` : ''}`;
  private backend: TaskBackend | null;
  private history: DatabaseHistory | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private recovering: Promise<void> | null = null;
  private unknownWarned = new Set<string>();
  private leasesPrunedAt = 0;

  constructor(
    @Inject(TASKFLOW_OPTIONS) private readonly options: ResolvedTaskOptions,
    private readonly runtime: TaskRuntime,
    private readonly registry: TaskRegistry,
  ) {
    this.backend = createBackend(options);
  }

  get enabled(): boolean {
    return this.backend !== null;
  }

  get database(): TaskBackend | null {
    return this.backend;
  }

  /** Startup steps 1-4 of SPEC §6: open, (history stays in the database), requeue, start writing. */
  async start(): Promise<void> {
    const backend = this.backend;
    if (!backend) return;
    await backend.open();
    const writer = new WriteBehind(backend, this.options.snapshotInterval * 1000);
    this.history = new DatabaseHistory(backend, writer, this.runtime.store, this.instanceId);
    this.runtime.history = this.history;
    // Tasks added before startup (in onModuleInit, say) were held in memory only.
    for (const task of this.runtime.store.values()) this.history.changed(task);
    await backend.heartbeat(this.instanceId, this.options.instanceLeaseSeconds);
    await this.forgetDeadLocalInstances(backend);
    await this.recover();
    const every = Math.max(1000, (this.options.instanceLeaseSeconds * 1000) / 3);
    this.heartbeatTimer = setInterval(() => void this.tick(), every);
    this.heartbeatTimer.unref();
    this.logger.log(`Task history in ${backend.kind}; instance ${this.instanceId}`);
  }

  /**
   * Shutdown: durable unfinished tasks go back to the database as pending with
   * no owner (run again at the next start, by any instance), unless a running
   * one must not run twice, which becomes interrupted. Then everything is written.
   */
  async saveUnfinished(unfinished: TaskData[]): Promise<TaskData[]> {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    await this.recovering;
    const left: TaskData[] = [];
    for (const task of unfinished) {
      const requeue = task.status === 'pending' || this.registry.find(task.funcName)?.definition.requeueOnInterrupt;
      if (this.history && task.durable && requeue) this.runtime.release(task, 'the application shut down');
      else left.push(task);
    }
    return left;
  }

  /** Last writes, then the instance row goes so others need not wait for its lease. */
  async flush(): Promise<void> {
    if (!this.backend || !this.history) return;
    await this.history.writer.stop(FINAL_WRITE_MS);
    await this.backend.removeInstance(this.instanceId).catch(() => undefined);
  }

  /** Closes the database; a connection that hangs (a network partition) does not hold shutdown forever. */
  async close(): Promise<void> {
    if (!this.backend) return;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, FINAL_WRITE_MS)));
    await Promise.race([this.backend.close().catch((e) => this.logger.warn(`Closing the database failed: ${String(e)}`)), gaveUp]);
    clearTimeout(timer);
  }

  private async tick(): Promise<void> {
    const backend = this.backend;
    if (!backend || !this.runtime.accepting) return;
    try {
      await backend.heartbeat(this.instanceId, this.options.instanceLeaseSeconds);
      await this.recover();
      await this.pruneLeases(backend);
    } catch (error) {
      // The write-behind reports the outage; a missed heartbeat is retried next tick.
      this.logger.debug?.(`Heartbeat failed: ${String(error)}`);
    }
  }

  /**
   * Every schedule slot leaves a lease row: delete, about hourly, those expired
   * over an hour ago (long past any late timer of that slot).
   */
  private async pruneLeases(backend: TaskBackend, now = Date.now()): Promise<void> {
    if (now - this.leasesPrunedAt < LEASE_PRUNE_EVERY_MS) return;
    this.leasesPrunedAt = now;
    await backend.deleteExpiredLeases(now - LEASE_PRUNE_EVERY_MS);
  }

  /** Claims orphaned durable tasks and runs them again (or marks them interrupted). */
  private recover(): Promise<void> {
    this.recovering ??= this.claimAll().finally(() => (this.recovering = null));
    return this.recovering;
  }

  private async claimAll(): Promise<void> {
    const backend = this.backend!;
    let requeued = 0;
    let interrupted = 0;
    for (;;) {
      const claimed = await backend.claimOrphans(this.instanceId, CLAIM_BATCH);
      const unknown: TaskData[] = [];
      for (const task of claimed) {
        const registered = this.registry.find(task.funcName);
        if (!registered) {
          unknown.push(task);
        } else if (task.status === 'pending' || registered.definition.requeueOnInterrupt) {
          this.runtime.resume(task, registered);
          requeued++;
        } else {
          this.settleAbandoned(task);
          interrupted++;
        }
      }
      if (unknown.length > 0) await this.handBack(backend, unknown);
      if (claimed.length < CLAIM_BATCH || unknown.length === claimed.length) break;
    }
    // Tasks that were not durable do not run again; settle them so history does not show them live forever.
    for (;;) {
      const abandoned = await backend.claimAbandoned(this.instanceId, CLAIM_BATCH);
      for (const task of abandoned) this.settleAbandoned(task);
      interrupted += abandoned.length;
      if (abandoned.length < CLAIM_BATCH) break;
    }
    if (requeued || interrupted) this.logger.log(`Recovered unfinished tasks: ${requeued} requeued, ${interrupted} marked interrupted`);
  }

  /** A task a dead instance left running (or not durable) becomes interrupted. */
  private settleAbandoned(task: TaskData): void {
    task.status = 'interrupted';
    task.endTime = Date.now();
    task.error = task.error ?? 'Interrupted: the instance running it stopped';
    this.runtime.changed(task);
  }

  /** Tasks of functions this app does not register stay pending for an instance that does. */
  private async handBack(backend: TaskBackend, tasks: TaskData[]): Promise<void> {
    for (const task of tasks) {
      task.owner = null;
      task.version++;
      if (!this.unknownWarned.has(task.funcName)) {
        this.unknownWarned.add(task.funcName);
        this.logger.warn(`Pending tasks of "${task.funcName}" are kept for an instance that registers it; this one does not`);
      }
    }
    await backend.saveBatch(tasks);
  }

  /**
   * An instance row of this host whose process is gone (or is this very pid, from
   * before a restart) is dead now: no need to wait for its lease to run out.
   * "This host" means the same hostname AND the same pid space: containers with host
   * networking (or pods with hostNetwork) share a hostname while each has its own
   * PID namespace, where the app is often pid 1 too; comparing by hostname alone made
   * a starting instance take a live peer for its own dead predecessor and claim the
   * tasks that peer was running (seen: run in both at once). Instances of another
   * pid space, or of a version without the scope, are left to their lease.
   */
  private async forgetDeadLocalInstances(backend: TaskBackend): Promise<void> {
    const host = hostname();
    for (const { id } of await backend.listInstances()) {
      const [h, pid, , scope = ''] = id.split('/');
      if (id === this.instanceId || h !== host || scope !== PID_SCOPE) continue;
      if (Number(pid) === process.pid || !processAlive(Number(pid))) await backend.removeInstance(id);
    }
  }
}

/**
 * The pid space this process lives in: a hash of the kernel boot id and the PID
 * namespace (Linux), so that pids are compared only within one. '' where these
 * cannot be read (other systems): the hostname alone decides there, as before.
 */
function pidScope(): string {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const namespace = readlinkSync('/proc/self/ns/pid');
    return createHash('sha256').update(`${boot} ${namespace}`).digest('hex').slice(0, 8);
  } catch {
    return '';
  }
}

const PID_SCOPE = pidScope();

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
