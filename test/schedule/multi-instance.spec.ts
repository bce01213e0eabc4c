/**
 * Two app instances on one database, each with its own DataSource (its own pool
 * of connections), in this process. The lease that decides a slot is settled by
 * the database, so two DataSources contend exactly as two processes would; in one
 * process the two schedulers even tick in the same event-loop turn, the closest
 * race there is. (Separate processes would add ~2 s of TypeScript start-up per
 * instance and test nothing more of this logic.)
 */
import { INestApplication, Injectable } from '@nestjs/common';
import { ScheduledTask, getTaskContext } from '../../lib';
import { TaskBackend } from '../../lib/storage/task-backend';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { Gate } from '../support/gate';
import { createPersistentApp, dropTaskTables } from '../support/persistent-app';

@Injectable()
class Ticker {
  static slots: string[] = [];
  static onRun: () => void = () => undefined;
  @ScheduledTask({ every: 1 })
  async tick(): Promise<void> {
    Ticker.slots.push(getTaskContext()!.tags.schedule_slot);
    Ticker.onRun();
  }
}

@Injectable()
class Exclusive {
  static starts: string[] = [];
  static gate = new Gate();
  static started = new Gate();
  static startedAgain = new Gate();
  @ScheduledTask({ every: 1 })
  async long(): Promise<void> {
    Exclusive.starts.push(getTaskContext()!.tags.schedule_slot);
    (Exclusive.starts.length === 1 ? Exclusive.started : Exclusive.startedAgain).open();
    await Exclusive.gate.promise;
  }
}

interface LeaseCall {
  instance: string;
  name: string;
  won: boolean;
}

/** Records every lease call of the instances and wakes waiters on each one. */
class LeaseLog {
  readonly calls: LeaseCall[] = [];
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  watch(label: string, app: INestApplication): void {
    const backend = app.get(TaskBackend);
    const original = backend.tryAcquireLease.bind(backend);
    backend.tryAcquireLease = async (name, holder, ttl) => {
      const won = await original(name, holder, ttl);
      this.calls.push({ instance: label, name, won });
      this.poke();
      return won;
    };
  }

  /** Re-checks the waiters (also called when something else they look at changed). */
  poke(): void {
    this.waiters = this.waiters.filter((w) => (w.check() ? (w.resolve(), false) : true));
  }

  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ check, resolve }));
  }
}

function slotCalls(log: LeaseLog, name: string): Map<string, LeaseCall[]> {
  const bySlot = new Map<string, LeaseCall[]>();
  for (const call of log.calls) {
    if (!call.name.startsWith(`schedule:${name}:`) || !call.name.endsWith('Z')) continue;
    bySlot.set(call.name, [...(bySlot.get(call.name) ?? []), call]);
  }
  return bySlot;
}

describeEachDatabase('scheduled tasks on two instances sharing one database', (target) => {
  const prefix = uniquePrefix();
  afterAll(() => dropTaskTables(target.options, prefix));

  it('fires each slot exactly once, whichever instance takes it', async () => {
    Ticker.slots = [];
    const log = new LeaseLog();
    Ticker.onRun = () => log.poke();
    const a = await createPersistentApp(target.options, prefix, {}, { providers: [Ticker] });
    log.watch('A', a.app);
    const b = await createPersistentApp(target.options, prefix, {}, { providers: [Ticker] });
    log.watch('B', b.app);
    // Wait for five slots that both instances competed for, and their runs.
    const contested = () => [...slotCalls(log, 'Ticker.tick').entries()].filter(([, calls]) => calls.length === 2).map(([name]) => name.slice(-24));
    await log.until(() => contested().length >= 5 && contested().every((slot) => Ticker.slots.includes(slot)));
    await Promise.all([a.app.close(), b.app.close()]);

    for (const calls of slotCalls(log, 'Ticker.tick').values()) {
      expect(calls.filter((c) => c.won)).toHaveLength(1);
    }
    const backend = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
    await backend.open();
    const rows = (await backend.listTasks({ funcName: 'Ticker.tick', limit: 5000 })).items;
    await backend.close();
    const stored = rows.map((r) => r.tags.schedule_slot).sort();
    expect(new Set(stored).size).toBe(stored.length);
    expect(stored.length).toBeGreaterThanOrEqual(5);
    expect(rows.every((r) => r.source === 'scheduled' && r.status === 'success')).toBe(true);
    expect([...Ticker.slots].sort()).toEqual(stored);
  });

  it('skips slots on every instance while a run is still going on one of them', async () => {
    Exclusive.starts = [];
    Exclusive.gate = new Gate();
    Exclusive.started = new Gate();
    Exclusive.startedAgain = new Gate();
    const log = new LeaseLog();
    const a = await createPersistentApp(target.options, prefix, {}, { providers: [Exclusive] });
    log.watch('A', a.app);
    const b = await createPersistentApp(target.options, prefix, {}, { providers: [Exclusive] });
    log.watch('B', b.app);
    await Exclusive.started.promise;
    const owner = log.calls.find((c) => c.name === 'schedule:Exclusive.long:run' && c.won)!.instance;
    const refusedRuns = () => log.calls.filter((c) => c.name === 'schedule:Exclusive.long:run' && !c.won && c.instance !== owner);
    // The other instance takes the next slots' leases but finds the run lease held: two such slots.
    await log.until(() => refusedRuns().length >= 2);
    expect(Exclusive.starts).toHaveLength(1);
    Exclusive.gate.open();
    // Once it has finished, the next slot runs again (on either instance).
    await Exclusive.startedAgain.promise;
    await Promise.all([a.app.close(), b.app.close()]);
    expect(new Set(Exclusive.starts).size).toBe(Exclusive.starts.length);
    expect(Date.parse(Exclusive.starts[1]) - Date.parse(Exclusive.starts[0])).toBeGreaterThanOrEqual(3000);
  });
});
