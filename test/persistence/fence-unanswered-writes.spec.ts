/**
 * The lease fence and a task's first write. A durable task added by addTask is written
 * behind; once the batch holding it is sent, its row may be committed while the answer
 * is still on its way. If this instance's lease lapses meanwhile, another instance may
 * claim the row and run it: the fence must hold the task from when its first write was
 * sent, and the ownership check when the fence reopens must count it. The other way
 * round, a task whose row is not there yet (its write still in flight, or rolled back
 * and to be retried) must stay owned here and run, not be taken for claimed and lost.
 *
 * Driven step by step: the backend holds a batch's answer (after its commit, or before
 * it reaches the database), the fence's clock (performance.now) is moved past the lease,
 * the database's lease of the instance is expired by hand, and a peer claims with the
 * backend's own claimOrphans. The heartbeat round is run by hand (the timer's is 20 s away).
 */
import { performance } from 'node:perf_hooks';
import { INestApplication, Injectable } from '@nestjs/common';
import { BackgroundTask, TaskManager } from '../../lib';
import { TaskRuntime } from '../../lib/engine/task-runtime';
import { TaskStorage } from '../../lib/engine/task-storage';
import { TaskPersistence } from '../../lib/persistence/task-persistence.service';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { TaskData } from '../../lib/task/task-record';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { Gate } from '../support/gate';
import { createManagerApp } from '../support/app';

const LEASE_SECONDS = 60;

@Injectable()
class FenceJobs {
  static started: string[] = [];
  static entered = new Gate();
  static blocker = new Gate();

  /** Holds the one slot until the test lets it end. */
  @BackgroundTask()
  async block(): Promise<void> {
    FenceJobs.entered.open();
    await FenceJobs.blocker.promise;
  }

  @BackgroundTask({ persist: true })
  async work(name: string): Promise<void> {
    FenceJobs.started.push(name);
  }
}

/** A batch holding `id`: held before it reaches the database or after it committed, until released; then it fails or goes on. */
interface WriteHold {
  id: string;
  when: 'before' | 'after';
  fail?: boolean;
  reached: Gate;
  release: Gate;
}

class HeldBackend extends TypeOrmTaskBackend {
  write: WriteHold | null = null;
  /** Holds the next ownership check until released. */
  check: { reached: Gate; release: Gate } | null = null;

  override async saveBatch(tasks: readonly TaskData[]): Promise<void> {
    const hold = this.write;
    if (!hold || !tasks.some((t) => t.id === hold.id)) return super.saveBatch(tasks);
    this.write = null;
    if (hold.when === 'after') await super.saveBatch(tasks);
    hold.reached.open();
    await hold.release.promise;
    if (hold.fail) throw new Error('connection lost before the commit');
    if (hold.when === 'before') await super.saveBatch(tasks);
  }

  override async stillOwned(instanceId: string, ids: readonly string[]): Promise<string[]> {
    const hold = this.check;
    this.check = null;
    if (hold) {
      hold.reached.open();
      await hold.release.promise;
    }
    return super.stillOwned(instanceId, ids);
  }
}

function holdWrite(backend: HeldBackend, id: string, when: WriteHold['when'], fail = false): WriteHold {
  const hold = { id, when, fail, reached: new Gate(), release: new Gate() };
  backend.write = hold;
  return hold;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describeEachDatabase('the lease fence and first writes not yet answered', (target) => {
  let app: INestApplication | undefined;
  let backend: HeldBackend;
  let peer: TypeOrmTaskBackend;
  let manager: TaskManager;
  let runtime: TaskRuntime;
  let storage: TaskStorage;
  let persistence: { beat(): Promise<void> };
  let holds: Gate[];
  let skew = 0;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    peer = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
    await peer.open();
    // A live peer: the rows it claims are not orphans for the next test's instance to recover at its start.
    await peer.heartbeat('peer', 3600);
    const realNow = performance.now.bind(performance);
    jest.spyOn(performance, 'now').mockImplementation(() => realNow() + skew);
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await peer.dropTables();
    await peer.close();
  });

  beforeEach(async () => {
    FenceJobs.started = [];
    FenceJobs.entered = new Gate();
    FenceJobs.blocker = new Gate();
    holds = [];
    backend = new HeldBackend(target.options, { tablePrefix: prefix });
    ({ app, manager } = await createManagerApp({ backend, maxConcurrentTasks: 1, instanceLeaseSeconds: LEASE_SECONDS }, { providers: [FenceJobs] }));
    runtime = app.get(TaskRuntime);
    storage = app.get(TaskStorage);
    persistence = app.get(TaskPersistence) as unknown as { beat(): Promise<void> };
  });

  afterEach(async () => {
    FenceJobs.blocker.open();
    for (const gate of holds) gate.open();
    if (backend.check) backend.check.release.open();
    await app?.close();
    app = undefined;
  });

  /** The one slot taken by a task that runs until the test lets it end; then `work` waits behind it. */
  async function slotTaken(): Promise<string> {
    const id = manager.addTask(FenceJobs.prototype.block, []);
    await FenceJobs.entered.promise;
    return id;
  }

  /** What the fence sees when the lease has run out without a heartbeat, and what the database sees. */
  async function leaseLapses(): Promise<void> {
    skew += (LEASE_SECONDS + 1) * 1000;
    expect(runtime.handoff.fence.open).toBe(false);
    await peer.heartbeat(storage.instanceId, -LEASE_SECONDS);
  }

  /** The blocker ends, its slot frees and the queue's next task has had its turn. */
  async function slotFrees(blocker: string): Promise<void> {
    FenceJobs.blocker.open();
    await runtime.waitFor(blocker);
    await turn();
  }

  function hold<T extends { release: Gate }>(h: T): T {
    holds.push(h.release);
    return h;
  }

  /**
   * The slot taken, `work` waiting behind it, its first write committed and the answer held;
   * then the lease lapses and the peer claims the row.
   */
  async function claimedUnanswered(): Promise<{ blocker: string; id: string; write: WriteHold }> {
    const blocker = await slotTaken();
    const id = manager.addTask(FenceJobs.prototype.work, ['T']);
    const write = hold(holdWrite(backend, id, 'after'));
    await write.reached.promise;
    await leaseLapses();
    expect((await peer.claimOrphans('peer', 10)).map((t) => t.id)).toContain(id);
    return { blocker, id, write };
  }

  it('holds a task whose first write committed unanswered while the lease lapsed, and leaves it to the peer that claimed it', async () => {
    const { blocker, id, write } = await claimedUnanswered();

    await slotFrees(blocker);
    // Before the fix it started here, unanswered counting as never written: run by both.
    expect(FenceJobs.started).toEqual([]);

    write.release.open();
    await storage.flush();
    await persistence.beat();
    await turn();
    expect(runtime.live(id)).toBeUndefined();
    expect(FenceJobs.started).toEqual([]);
    expect((await peer.getTask(id))?.owner).toBe('peer');
  });

  it('checks, when the fence reopens, a task whose first write is still unanswered', async () => {
    const { blocker, id, write } = await claimedUnanswered();

    // The heartbeat gets through while the batch's answer is still on its way.
    await persistence.beat();
    write.release.open();
    await storage.flush();
    await slotFrees(blocker);
    // Before the fix it was left out of the check as never written, then started here.
    expect(FenceJobs.started).toEqual([]);
    expect(runtime.live(id)).toBeUndefined();
  });

  it('starts no held task between the heartbeat that gets through and the end of the ownership check', async () => {
    const blocker = await slotTaken();
    const id = manager.addTask(FenceJobs.prototype.work, ['T']);
    await storage.flush();
    await leaseLapses();
    expect((await peer.claimOrphans('peer', 10)).map((t) => t.id)).toContain(id);

    const check = hold({ reached: new Gate(), release: new Gate() });
    backend.check = check;
    const beat = persistence.beat();
    await check.reached.promise;
    // The lease is renewed, but whether the task is still this instance's is not known yet.
    expect(runtime.handoff.fence.open).toBe(true);
    await slotFrees(blocker);
    // Before the fix the fence let it start as soon as the heartbeat had been answered.
    expect(FenceJobs.started).toEqual([]);

    check.release.open();
    await beat;
    await turn();
    expect(FenceJobs.started).toEqual([]);
    expect(runtime.live(id)).toBeUndefined();
  });

  it.each([
    ['still in flight', false],
    ['rolled back, to be written again', true],
  ])('keeps and runs a task whose first write is %s when the fence reopens', async (_what, fails) => {
    const blocker = await slotTaken();
    const id = manager.addTask(FenceJobs.prototype.work, ['T']);
    const write = hold(holdWrite(backend, id, 'before', fails));
    await write.reached.promise;
    await leaseLapses();
    // No row yet: nothing for a peer to claim.
    expect((await peer.claimOrphans('peer', 10)).map((t) => t.id)).not.toContain(id);
    if (fails) {
      const failed = storage.flush();
      write.release.open();
      await expect(failed).rejects.toThrow(/connection lost/);
    }

    await persistence.beat();
    await slotFrees(blocker);
    // Its row missing at the check is no sign another instance has it: it is still this instance's.
    expect(runtime.live(id)).toBeDefined();
    if (!fails) write.release.open();
    expect(await manager.waitFor(id)).toMatchObject({ status: 'success' });
    expect(FenceJobs.started).toEqual(['T']);
    await storage.flush();
    expect(await peer.getTask(id)).toMatchObject({ status: 'success', owner: storage.instanceId });
  });
});
