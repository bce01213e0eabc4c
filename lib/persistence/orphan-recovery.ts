import { Logger } from '@nestjs/common';
import { TaskRegistry } from '../discovery/task.registry';
import { TaskRuntime } from '../engine/task-runtime';
import { TaskBackend } from '../storage/task-backend';
import { TaskData } from '../task/task-record';

const CLAIM_BATCH = 500;

/**
 * Takes over what dead instances (or this one before a restart) left unfinished:
 * durable tasks run again here, or become interrupted when running them twice is
 * not allowed; tasks that were not durable are settled as interrupted. One round
 * at a time.
 */
export class OrphanRecovery {
  private recovering: Promise<void> | null = null;
  private readonly unknownWarned = new Set<string>();

  constructor(
    private readonly backend: TaskBackend,
    private readonly runtime: TaskRuntime,
    private readonly registry: TaskRegistry,
    private readonly instanceId: string,
    private readonly logger: Logger,
  ) {}

  /**
   * Claims orphaned tasks and runs them again (or marks them interrupted). With
   * `includePool` (startup), also the pending tasks nobody owns; later rounds leave
   * those to work sharing, which claims only as many as there are free slots.
   */
  run(includePool = false): Promise<void> {
    this.recovering ??= this.claimAll(includePool).finally(() => (this.recovering = null));
    return this.recovering;
  }

  /** Waits for a round in progress (shutdown). */
  async settled(): Promise<void> {
    await this.recovering;
  }

  private async claimAll(includePool: boolean): Promise<void> {
    let requeued = 0;
    let interrupted = 0;
    for (;;) {
      const claimed = await this.backend.claimOrphans(this.instanceId, CLAIM_BATCH, includePool);
      const unknown: TaskData[] = [];
      for (const task of claimed) {
        const registered = this.registry.find(task.funcName);
        const held = this.runtime.live(task.id);
        if (held) {
          // Its own live (or just finished) task, its lease seen lapsed: keep it as it is here, never run it twice.
          held.version = Math.max(held.version, task.version);
          held.owner = this.instanceId;
          this.runtime.changed(held);
        } else if (!registered) {
          unknown.push(task);
        } else if (task.status === 'pending' || registered.definition.requeueOnInterrupt) {
          this.runtime.resume(task, registered);
          requeued++;
        } else {
          this.settleAbandoned(task);
          interrupted++;
        }
      }
      if (unknown.length > 0) await this.handBack(unknown);
      if (claimed.length < CLAIM_BATCH || unknown.length === claimed.length) break;
    }
    // Tasks that were not durable do not run again; settle them so history does not show them live forever.
    for (;;) {
      const abandoned = await this.backend.claimAbandoned(this.instanceId, CLAIM_BATCH);
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
  private async handBack(tasks: TaskData[]): Promise<void> {
    for (const task of tasks) {
      task.owner = null;
      task.version++;
      if (!this.unknownWarned.has(task.funcName)) {
        this.unknownWarned.add(task.funcName);
        this.logger.warn(`Pending tasks of "${task.funcName}" are kept for an instance that registers it; this one does not`);
      }
    }
    await this.backend.saveBatch(tasks);
  }
}
