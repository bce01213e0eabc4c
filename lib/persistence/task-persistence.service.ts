import { Inject, Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { LOGGER_CONTEXT, TASKFLOW_OPTIONS } from '../constants';
import { TaskRegistry } from '../discovery/task.registry';
import { TaskRuntime } from '../engine/task-runtime';
import { TaskStorage } from '../engine/task-storage';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { isDeadLocalInstance } from '../storage/instance-identity';
import { TaskBackend } from '../storage/task-backend';
import { TaskData } from '../task/task-record';
import { OrphanRecovery } from './orphan-recovery';
import { RemoteCancels } from './remote-cancels';
import { RemoteChanges } from './remote-changes';
import { WorkSharing } from './work-sharing';

const LEASE_PRUNE_EVERY_MS = 3600_000;
/** Instance rows whose lease ended this long ago are deleted (their unfinished tasks were claimable long before). */
const DEAD_INSTANCE_KEPT_MS = 24 * 3600_000;
/** How long shutdown keeps trying to write what is queued. */
const FINAL_WRITE_MS = 10_000;

/**
 * A persistent backend's lifecycle: opens it, requeues what a previous run or a
 * dead instance left unfinished, keeps this instance's lease alive, and at
 * shutdown hands unfinished durable tasks back and writes everything out. With
 * the memory backend there is nothing to open, recover or hand back.
 */
@Injectable()
export class TaskPersistence {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly recovery: OrphanRecovery;
  private readonly sharing: WorkSharing;
  private readonly cancels: RemoteCancels;
  private readonly changes: RemoteChanges;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  /** One heartbeat round at a time: under a stall, rounds piled up on the pool. */
  private ticking = false;
  private leasesPrunedAt = 0;

  constructor(
    @Inject(TASKFLOW_OPTIONS) private readonly options: ResolvedTaskOptions,
    private readonly runtime: TaskRuntime,
    private readonly storage: TaskStorage,
    private readonly backend: TaskBackend,
    private readonly registry: TaskRegistry,
  ) {
    this.recovery = new OrphanRecovery(backend, runtime, registry, storage.instanceId, this.logger);
    this.cancels = new RemoteCancels(backend, runtime, storage.instanceId, this.logger);
    this.changes = new RemoteChanges(backend, runtime, this.logger, storage.instanceId);
    this.sharing = new WorkSharing(backend, storage, runtime, registry, this.logger, options.maxConcurrentTasks ?? Infinity);
  }

  /** This instance's id in the backend (`host/pid/random[/scope]`). */
  get instanceId(): string {
    return this.storage.instanceId;
  }

  /** Startup: open, start writing (history stays in the database), forget dead local instances, requeue. */
  async start(): Promise<void> {
    if (!this.storage.persistent) return;
    const backend = this.backend;
    await this.storage.open();
    // Before any recovered task can start: a function paused before the restart stays paused.
    await this.runtime.gates.paused.load();
    this.runtime.gates.paused.start();
    await this.beat();
    await this.forgetDeadLocalInstances();
    await this.recovery.run(true);
    // Pending tasks handed back at a shutdown, or offered by a busy peer.
    await this.sharing.round();
    this.sharing.start();
    this.cancels.start();
    // Not fatal: a listener that cannot connect yet keeps trying on its own.
    await this.changes.start().catch((error) => this.logger.warn(`Other instances' changes cannot be followed yet: ${String(error)}`));
    const every = Math.max(1000, (this.options.instanceLeaseSeconds * 1000) / 3);
    this.heartbeatTimer = setInterval(() => void this.tick(), every);
    this.heartbeatTimer.unref();
    this.logger.log(`Task history in ${backend.kind}; instance ${this.instanceId}`);
  }

  /**
   * Shutdown: durable unfinished tasks go back to the database as pending with
   * no owner (run again at the next start, by any instance), unless a running
   * one must not run twice, which becomes interrupted. Returns those left.
   */
  async saveUnfinished(unfinished: TaskData[]): Promise<TaskData[]> {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.sharing.stop();
    this.cancels.stop();
    await this.changes.stop();
    this.runtime.gates.paused.stop();
    await this.recovery.settled();
    const left: TaskData[] = [];
    for (const task of unfinished) {
      const requeue = task.status === 'pending' || this.registry.find(task.funcName)?.definition.requeueOnInterrupt;
      if (this.storage.persistent && task.durable && requeue) this.runtime.release(task, 'the application shut down');
      else left.push(task);
    }
    return left;
  }

  /** Last writes, then the instance row goes so others need not wait for its lease. */
  async flush(): Promise<void> {
    if (!this.storage.persistent) return;
    await this.storage.close(FINAL_WRITE_MS);
    await this.backend.removeInstance(this.instanceId).catch(() => undefined);
  }

  /** Closes the backend; a connection that hangs (a network partition) does not hold shutdown forever. */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, FINAL_WRITE_MS)));
    await Promise.race([this.backend.close().catch((e) => this.logger.warn(`Closing the database failed: ${String(e)}`)), gaveUp]);
    clearTimeout(timer);
  }

  private async tick(): Promise<void> {
    if (!this.runtime.accepting || this.ticking) return;
    this.ticking = true;
    try {
      await this.beat();
      await this.recovery.run();
      await this.pruneLeases();
    } catch (error) {
      // The write-behind reports the outage; a missed heartbeat is retried next tick.
      this.logger.debug?.(`Heartbeat failed: ${String(error)}`);
    } finally {
      this.ticking = false;
    }
  }

  /**
   * Renews the lease and confirms it to the fence, from the time the heartbeat was sent.
   * When the fence had closed meanwhile (the lease may have ended during a stall), the
   * pending durable tasks held here are checked first: those another instance claimed
   * are left to it, the rest may start again (the lease just renewed keeps them ours).
   * One whose first write was sent counts, answered or not (its row may be committed);
   * one whose row is not there yet stays ours: a row committed from now on is under the
   * renewed lease, and one whose write failed is written again.
   */
  private async beat(): Promise<void> {
    const ttlMs = this.options.instanceLeaseSeconds * 1000;
    const sentAt = performance.now();
    await this.backend.heartbeat(this.instanceId, this.options.instanceLeaseSeconds);
    const fence = this.runtime.handoff.fence;
    fence.confirm(sentAt, ttlMs);
    if (!fence.lapsed) return;
    // A task never sent to the database is known to nobody else.
    const pending = this.runtime.unfinishedTasks().filter((t) => t.durable && t.status === 'pending' && t.unstored !== true);
    const owned = new Set(
      await this.backend.stillOwned(
        this.instanceId,
        pending.map((t) => t.id),
      ),
    );
    const lost = pending.filter((t) => !owned.has(t.id));
    for (const task of lost) this.runtime.handoff.disown(task);
    if (lost.length > 0)
      this.logger.warn(`This instance's lease lapsed: ${lost.length} pending task(s) claimed by other instances meanwhile are left to them`);
    this.runtime.handoff.reopenFenced();
  }

  /**
   * Every schedule slot leaves a lease row: delete, about hourly, those expired
   * over an hour ago (long past any late timer of that slot), the revocations
   * of tokens that have expired, flow-control rows unused for an hour, and
   * instances whose lease ended over a day ago.
   */
  private async pruneLeases(now = Date.now()): Promise<void> {
    if (now - this.leasesPrunedAt < LEASE_PRUNE_EVERY_MS) return;
    this.leasesPrunedAt = now;
    await this.backend.deleteExpiredLeases(now - LEASE_PRUNE_EVERY_MS);
    // A signed-out token past its own expiry is refused anyway: its revocation row can go.
    await this.backend.deleteExpiredRevocations(now);
    // So the instance list does not grow with every restart; unknown owners' tasks stay claimable.
    for (const { id, leaseUntil } of await this.backend.listInstances()) {
      if (id !== this.instanceId && leaseUntil < now - DEAD_INSTANCE_KEPT_MS) await this.backend.removeInstance(id);
    }
    // Rate-limit rows of keys idle for an hour (made again when the key is used).
    await this.backend.pruneGateSlots(now - LEASE_PRUNE_EVERY_MS);
  }

  /** Instance rows of this host and pid space whose process is gone are dead now, lease or not. */
  private async forgetDeadLocalInstances(): Promise<void> {
    for (const { id } of await this.backend.listInstances()) {
      if (isDeadLocalInstance(id, this.instanceId)) await this.backend.removeInstance(id);
    }
  }
}
