import { Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { TaskRegistry } from '../discovery/task.registry';
import { TaskRuntime } from '../engine/task-runtime';
import { TaskStorage } from '../engine/task-storage';
import { TaskBackend } from '../storage/task-backend';

/** How often an instance offers its surplus and looks for pooled work. */
export const SHARE_EVERY_MS = 250;
/** Pooled tasks claimed in one statement at most. */
const POOL_BATCH = 100;
/** Waiting tasks handed to the pool in one round at most. */
const OFFER_BATCH = 1000;
/** How often the instance list is read to know whether any peer could take offered work. */
const PEERS_EVERY_MS = 1000;

/**
 * Spreads durable work over every instance on a shared database. A task added here
 * starts here at once when a slot is free (no database round trip: the fast path);
 * when it would wait, it stays queued here only while this instance has no more than
 * `keep` waiting (one round of its slots), and the surplus is handed to the pool (the
 * rows lose their owner, and leave this instance's memory). Every instance with spare
 * slots claims pooled rows, highest priority then oldest, in batches, atomically, so
 * each runs once; a loser of a claim race gets nothing and starts nothing. Priority
 * holds across instances to within one claim batch and each instance's kept tasks.
 * Nothing is offered while no other instance holds a live lease (alone, it would
 * only cost round trips); pooled work is claimed at once when a slot frees.
 */
export class WorkSharing {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private again = false;
  private readonly keep: number;
  private peersReadAt = -Infinity;
  private hasPeers = false;
  /** The last claim found pooled work: look again as soon as a slot frees. */
  private poolBusy = true;

  constructor(
    private readonly backend: TaskBackend,
    private readonly storage: TaskStorage,
    private readonly runtime: TaskRuntime,
    private readonly registry: TaskRegistry,
    private readonly logger: Logger,
    cap: number,
  ) {
    this.keep = Number.isFinite(cap) ? Math.max(1, cap) : Infinity;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), SHARE_EVERY_MS);
    this.timer.unref();
    this.runtime.slotFreed = () => {
      if (this.poolBusy) void this.tick();
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.runtime.slotFreed = null;
  }

  /** One round: offer the surplus, then claim pooled work while slots are spare. */
  async round(): Promise<void> {
    if (!this.runtime.accepting || !this.runtime.handoff.fence.open) return;
    await this.offerSurplus();
    for (let rounds = 0; rounds < 20; rounds++) {
      // Free slots and one round of them ahead, so the next task is here when a slot frees.
      const want = Math.min(this.runtime.handoff.spareSlots(Number.isFinite(this.keep) ? this.keep : 0), POOL_BATCH);
      if (want <= 0 || !this.runtime.handoff.fence.open) return;
      // Not a paused function's, nor one whose tasks already wait here for their limits.
      const names = this.registry
        .all()
        .map((r) => r.definition.name)
        .filter((name) => this.runtime.gates.claimable(name));
      const claimed = await this.backend.claimFromPool(this.storage.instanceId, want, names);
      this.poolBusy = claimed.length > 0;
      for (const task of claimed) {
        const registered = this.registry.find(task.funcName);
        if (registered) this.runtime.resume(task, registered);
      }
      if (claimed.length < want) return;
    }
  }

  private async tick(): Promise<void> {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        await this.round();
      } while (this.again);
    } catch (error) {
      // The write-behind reports an outage; the next round tries again.
      this.logger.debug?.(`Work sharing round failed: ${String(error)}`);
    } finally {
      this.busy = false;
    }
  }

  /** Whether another instance holds a live lease (read about once a second). */
  private async peersAlive(): Promise<boolean> {
    if (performance.now() - this.peersReadAt < PEERS_EVERY_MS) return this.hasPeers;
    this.peersReadAt = performance.now();
    const me = this.storage.instanceId;
    const now = Date.now();
    this.hasPeers = (await this.backend.listInstances()).some((i) => i.id !== me && i.leaseUntil > now);
    return this.hasPeers;
  }

  private async offerSurplus(): Promise<void> {
    if (this.runtime.handoff.waitingCount <= this.keep || !(await this.peersAlive())) return;
    // Rows must exist before they can be handed over.
    await this.storage.flush();
    const taken = this.runtime.handoff.takeShareable(this.keep, OFFER_BATCH);
    if (taken.length === 0) return;
    let offered: Set<string>;
    try {
      offered = new Set(
        await this.backend.offerToPool(
          this.storage.instanceId,
          taken.map((q) => q.task.id),
        ),
      );
    } catch (error) {
      this.runtime.handoff.keepShared(taken);
      throw error;
    }
    this.runtime.handoff.shared(taken.filter((q) => offered.has(q.task.id)));
    this.runtime.handoff.keepShared(taken.filter((q) => !offered.has(q.task.id)));
  }
}
