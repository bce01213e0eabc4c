import { AuditEntry } from '../task/audit-entry';
import { TaskData } from '../task/task-record';
import { TaskMetrics } from '../task/task-metrics';
import { TaskPage, TaskQuery } from '../task/task-query';
import { KEY_RELEASING_STATUSES, isTerminal } from '../task/task-status';
import { AuditLog } from './audit-log';
import { computeMetrics } from './compute-metrics';
import { MemoryInsights } from './memory-insights';
import { MemoryTaskStore } from './memory-task.store';
import { TaskBackend } from './task-backend';
import { pageOf } from './task-filter';

/**
 * No database: the history is the bounded set of records the engine keeps in
 * memory (the same MemoryTaskStore, not a copy). Nothing is written to it
 * (`persistent: false`), so saveBatch only keeps what it is given; there are no
 * other instances, so claims return nothing and leases and keys are local.
 */
export class MemoryTaskBackend extends TaskBackend {
  readonly kind = 'memory';
  readonly capabilities = { persistent: false } as const;
  readonly insights: MemoryInsights;
  private readonly auditLog = new AuditLog();
  private readonly leases = new Map<string, { holder: string; until: number }>();
  private readonly keys = new Map<string, string>();

  constructor(private readonly store: MemoryTaskStore) {
    super();
    this.insights = new MemoryInsights(store);
  }

  async open(): Promise<void> {}

  async close(): Promise<void> {}

  async saveBatch(tasks: readonly TaskData[]): Promise<void> {
    for (const task of tasks) {
      const kept = this.store.get(task.id);
      if (!kept || kept.version < task.version) this.store.add(task);
    }
  }

  async getTask(id: string): Promise<TaskData | null> {
    return this.store.get(id) ?? null;
  }

  async listTasks(query: TaskQuery): Promise<TaskPage<TaskData>> {
    return pageOf(this.store.values(), query);
  }

  async metrics(): Promise<TaskMetrics> {
    return computeMetrics(this.store.values());
  }

  async deleteTerminalBefore(cutoff: number, batchSize: number): Promise<string[]> {
    const ids: string[] = [];
    for (const task of [...this.store.values()]) {
      if (ids.length >= batchSize) break;
      if (isTerminal(task.status) && (task.endTime ?? task.createdAt) < cutoff && this.store.delete(task.id)) ids.push(task.id);
    }
    return ids;
  }

  async claimOrphans(): Promise<TaskData[]> {
    return [];
  }

  async claimAbandoned(): Promise<TaskData[]> {
    return [];
  }

  async heartbeat(): Promise<void> {}

  async removeInstance(): Promise<void> {}

  async listInstances(): Promise<{ id: string; leaseUntil: number }[]> {
    return [];
  }

  async reserveIdempotencyKey(key: string, taskId: string): Promise<string> {
    const holder = this.keys.get(key);
    const task = holder === undefined ? undefined : this.store.get(holder);
    if (task && !KEY_RELEASING_STATUSES.includes(task.status)) return task.id;
    this.keys.set(key, taskId);
    return taskId;
  }

  async tryAcquireLease(name: string, holder: string, ttlSeconds: number): Promise<boolean> {
    const now = Date.now();
    const lease = this.leases.get(name);
    if (lease && lease.holder !== holder && lease.until >= now) return false;
    this.leases.set(name, { holder, until: now + Math.round((Number(ttlSeconds) || 0) * 1000) });
    return true;
  }

  async deleteExpiredLeases(before: number): Promise<number> {
    let removed = 0;
    for (const [name, lease] of this.leases) if (lease.until < before && this.leases.delete(name)) removed++;
    return removed;
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    this.auditLog.append(entry);
  }

  async listAudit(limit: number, offset: number): Promise<AuditEntry[]> {
    return this.auditLog.list(limit, offset);
  }
}
