import { Injectable } from '@nestjs/common';
import { TaskStorage } from '../../engine/task-storage';
import { TaskBackend } from '../../storage/task-backend';

/** Bounds of one health check. */
export interface TaskflowHealthOptions {
  /** Task changes waiting to be written above which the check is down. Default 10000. */
  maxBacklog?: number;
  /** Seconds the database may take to answer the check's write and read. Default 3. */
  timeout?: number;
}

/** What the check found, under the key given to isHealthy(). */
export interface TaskflowHealthDetails {
  status: 'up' | 'down';
  /** The backend's kind: `memory`, the TypeORM database type (`postgres`, ...), or a custom backend's. */
  backend: string;
  /** `writable`, `unreachable` (the write failed or timed out), or `none` (memory: nothing to write to). */
  database: 'writable' | 'unreachable' | 'none';
  /** Task changes waiting to be written, and the bound. */
  backlog: number;
  maxBacklog: number;
  /** This instance's lease in the database: `fresh`, `expired` (others may take its tasks), `unknown` (unreadable) or `none`. */
  lease: 'fresh' | 'expired' | 'unknown' | 'none';
  /** Why the check is down. */
  error?: string;
}

/** The shape @nestjs/terminus expects of an indicator (its HealthIndicatorResult). */
export type TaskflowHealthResult<Key extends string = string> = Record<Key, TaskflowHealthDetails>;

/**
 * A health indicator for @nestjs/terminus: up when the database takes a write (a
 * lease held by this instance, renewed by each check), the write backlog is under a
 * bound and this instance's lease has not expired.
 *
 * ```ts
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.taskflow.isHealthy('taskflow')]); }
 * ```
 *
 * It returns terminus's result shape without importing terminus, so it costs nothing
 * to provide in apps that do not use it.
 */
@Injectable()
export class TaskflowHealthIndicator {
  constructor(
    private readonly storage: TaskStorage,
    private readonly backend: TaskBackend,
  ) {}

  async isHealthy<Key extends string = 'taskflow'>(
    key: Key = 'taskflow' as Key,
    options: TaskflowHealthOptions = {},
  ): Promise<TaskflowHealthResult<Key>> {
    const maxBacklog = options.maxBacklog ?? 10_000;
    const timeoutMs = (options.timeout ?? 3) * 1000;
    const details: TaskflowHealthDetails = {
      status: 'up',
      backend: this.backend.kind,
      database: 'none',
      backlog: this.storage.writeBacklog,
      maxBacklog,
      lease: 'none',
    };
    const problems: string[] = [];
    if (this.storage.persistent) {
      try {
        // A write each check would make: one row per instance, renewed in place, expiring when checks stop.
        await withTimeout(this.storage.tryAcquireLease(`health:${this.storage.instanceId}`, 60), timeoutMs);
        details.database = 'writable';
      } catch (error) {
        details.database = 'unreachable';
        problems.push(`database not writable: ${describe(error)}`);
      }
      details.lease = details.database === 'writable' ? await this.leaseState(timeoutMs) : 'unknown';
      if (details.lease === 'expired') problems.push("this instance's lease has expired: other instances may recover its tasks");
    }
    if (details.backlog > maxBacklog) problems.push(`${details.backlog} task changes wait to be written (bound ${maxBacklog})`);
    if (problems.length > 0) {
      details.status = 'down';
      details.error = problems.join('; ');
    }
    return { [key]: details } as TaskflowHealthResult<Key>;
  }

  private async leaseState(timeoutMs: number): Promise<'fresh' | 'expired' | 'unknown'> {
    try {
      const instances = await withTimeout(this.backend.listInstances(), timeoutMs);
      const own = instances.find((instance) => instance.id === this.storage.instanceId);
      return own !== undefined && own.leaseUntil > Date.now() ? 'fresh' : 'expired';
    } catch {
      return 'unknown';
    }
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
