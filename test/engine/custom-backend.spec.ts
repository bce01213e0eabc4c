import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  AuditEntry,
  BackgroundTask,
  InvalidOptionError,
  TaskBackend,
  TaskData,
  TaskManager,
  TaskManagerModule,
  TaskMetrics,
  TaskPage,
  TaskQuery,
} from '../../lib';

@Injectable()
class Jobs {
  @BackgroundTask()
  async double(n: number): Promise<number> {
    return n * 2;
  }
}

/**
 * A user's own storage: rows in a Map, every saveBatch recorded. Persistent, so
 * the engine writes behind to it and reads from it; no insight queries.
 */
class MapBackend extends TaskBackend {
  readonly kind = 'map';
  readonly capabilities = { persistent: true };
  readonly insights = null;
  readonly rows = new Map<string, TaskData>();
  readonly batches: TaskData[][] = [];
  readonly audits: AuditEntry[] = [];
  readonly calls: string[] = [];
  private readonly leases = new Map<string, string>();

  async open(): Promise<void> {
    this.calls.push('open');
  }
  async close(): Promise<void> {
    this.calls.push('close');
  }
  async saveBatch(tasks: readonly TaskData[]): Promise<void> {
    this.batches.push([...tasks]);
    for (const task of tasks) if ((this.rows.get(task.id)?.version ?? 0) < task.version) this.rows.set(task.id, task);
  }
  async getTask(id: string): Promise<TaskData | null> {
    this.calls.push('getTask');
    return this.rows.get(id) ?? null;
  }
  async listTasks(query: TaskQuery): Promise<TaskPage<TaskData>> {
    this.calls.push('listTasks');
    const items = [...this.rows.values()]
      .filter((t) => (query.funcName === undefined || t.funcName === query.funcName) && (query.status === undefined || t.status === query.status))
      .sort((a, b) => b.createdAt - a.createdAt);
    const offset = query.offset ?? 0;
    return { items: items.slice(offset, offset + (query.limit ?? 100)), total: items.length };
  }
  async metrics(): Promise<TaskMetrics> {
    throw new Error('not needed here');
  }
  async deleteTerminalBefore(): Promise<string[]> {
    return [];
  }
  async claimOrphans(): Promise<TaskData[]> {
    return [];
  }
  async claimAbandoned(): Promise<TaskData[]> {
    return [];
  }
  async heartbeat(instanceId: string): Promise<void> {
    this.calls.push(`heartbeat ${instanceId}`);
  }
  async removeInstance(instanceId: string): Promise<void> {
    this.calls.push(`removeInstance ${instanceId}`);
  }
  async listInstances(): Promise<{ id: string; leaseUntil: number }[]> {
    return [];
  }
  async reserveIdempotencyKey(_key: string, taskId: string): Promise<string> {
    return taskId;
  }
  async tryAcquireLease(name: string, holder: string): Promise<boolean> {
    const current = this.leases.get(name);
    if (current && current !== holder) return false;
    this.leases.set(name, holder);
    return true;
  }
  async deleteExpiredLeases(): Promise<number> {
    return 0;
  }
  async appendAudit(entry: AuditEntry): Promise<void> {
    this.audits.unshift(entry);
  }
  async listAudit(limit: number, offset: number): Promise<AuditEntry[]> {
    return this.audits.slice(offset, offset + limit);
  }
}

/** Runs one task through the app's manager and checks every trace of it went through `backend`. */
async function runThrough(manager: TaskManager, backend: MapBackend): Promise<void> {
  expect(backend.calls[0]).toBe('open');
  expect(backend.calls[1]).toMatch(/^heartbeat /);
  const id = manager.addTask('Jobs.double', [21]);
  expect((await manager.waitFor(id)).status).toBe('success');
  await manager.flush();
  // Written behind in batches (a group commit may fold creation, start and finish into one row).
  const statuses = backend.batches
    .flat()
    .filter((t) => t.id === id)
    .map((t) => t.status);
  expect(statuses[statuses.length - 1]).toBe('success');
  // The rows written are snapshots, the backend's own from then on.
  expect(backend.rows.get(id)).toMatchObject({ id, funcName: 'Jobs.double', status: 'success', args: [21] });
  // Reads are the backend's answers.
  backend.rows.set('not-in-memory', { ...backend.rows.get(id)!, id: 'not-in-memory', createdAt: 0 });
  expect((await manager.getTask('not-in-memory'))?.task_id).toBe('not-in-memory');
  expect((await manager.listTasks()).items.map((r) => r.task_id)).toEqual([id, 'not-in-memory']);
  expect(backend.calls).toContain('listTasks');
  // So is the audit log.
  await manager.retry('not-in-memory').catch(() => undefined);
  await manager.deleteHistory(Date.parse('2000-01-01'), { actor: 'test' });
  expect((await manager.audit()).map((e) => e.action)).toContain('delete_history');
  expect(backend.audits.map((e) => e.action)).toContain('delete_history');
}

describe('a user-provided TaskBackend', () => {
  it('is used when given as the `backend` option', async () => {
    const backend = new MapBackend();
    const moduleRef = await Test.createTestingModule({
      imports: [TaskManagerModule.forRoot({ backend, shutdownGracePeriod: 0 })],
      providers: [Jobs],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    expect(app.get(TaskBackend)).toBe(backend);
    await runThrough(app.get(TaskManager), backend);
    await app.close();
    // Shutdown: this instance is removed, then the backend is closed.
    expect(backend.calls.slice(-2)).toEqual([expect.stringMatching(/^removeInstance /), 'close']);
  });

  it('replaces the default through overrideProvider(TaskBackend)', async () => {
    const backend = new MapBackend();
    const moduleRef = await Test.createTestingModule({
      imports: [TaskManagerModule.forRoot({ shutdownGracePeriod: 0 })],
      providers: [Jobs],
    })
      .overrideProvider(TaskBackend)
      .useValue(backend)
      .compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    await runThrough(app.get(TaskManager), backend);
    await app.close();
    expect(backend.calls[backend.calls.length - 1]).toBe('close');
  });

  it('refuses a `backend` that is not a TaskBackend, naming the option', () => {
    const notABackend = { saveBatch: async () => undefined } as unknown as TaskBackend;
    expect(() => TaskManagerModule.forRoot({ backend: notABackend })).toThrow(InvalidOptionError);
    expect(() => TaskManagerModule.forRoot({ backend: notABackend })).toThrow(/backend/);
  });
});
