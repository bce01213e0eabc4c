import { INestApplication, Injectable, Logger, Scope } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  BackgroundTask,
  ScheduledTask,
  TaskBackend,
  TaskDefinitionError,
  TaskManager,
  TaskManagerModule,
  TaskManagerOptions,
  TaskRecord,
} from '../../lib';
import { TaskScheduler } from '../../lib/schedule/task-scheduler.service';
import { Gate } from '../support/gate';

// Every schedule test runs on fake timers (Date included), from a chosen instant.
const FAKE = { doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] as const };

@Injectable()
class Every30 {
  runs = 0;
  @ScheduledTask({ every: 30, retries: 1 })
  async poll(): Promise<void> {
    this.runs++;
  }
}

@Injectable()
class Berlin {
  @ScheduledTask({ cron: '0 2 * * *', timezone: 'Europe/Berlin' })
  async nightly(): Promise<void> {}
}

@Injectable()
class OnStartup {
  @ScheduledTask({ every: 3600, runOnStartup: true, name: 'hourly.report' })
  async report(): Promise<void> {}
}

@Injectable()
class Slow {
  gate = new Gate();
  started = 0;
  @ScheduledTask({ every: 10 })
  async exclusive(): Promise<void> {
    this.started++;
    await this.gate.promise;
  }
}

@Injectable()
class SlowOverlapping {
  gate = new Gate();
  started = 0;
  @ScheduledTask({ every: 10, overlap: true })
  async overlapping(): Promise<void> {
    this.started++;
    await this.gate.promise;
  }
}

@Injectable()
class Minutely {
  @ScheduledTask({ every: 60 })
  async minute(): Promise<void> {}
}

/** Boots an app; `before` runs between compile and init (to stub a dependency). */
async function boot(
  now: string,
  providers: any[],
  options: TaskManagerOptions = {},
  before?: (app: INestApplication) => void,
): Promise<{ app: INestApplication; manager: TaskManager }> {
  jest.useFakeTimers({ ...FAKE, doNotFake: [...FAKE.doNotFake], now: new Date(now) });
  const moduleRef = await Test.createTestingModule({
    imports: [TaskManagerModule.forRoot({ shutdownGracePeriod: 0, ...options })],
    providers,
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  before?.(app);
  await app.init();
  return { app, manager: app.get(TaskManager) };
}

async function records(manager: TaskManager, funcName: string): Promise<TaskRecord[]> {
  return (await manager.listTasks({ funcName, limit: 5000 })).items.reverse();
}

/** Advances the fake clock to an absolute instant, running timers and promise callbacks on the way. */
async function advanceTo(iso: string): Promise<void> {
  await jest.advanceTimersByTimeAsync(Date.parse(iso) - Date.now());
}

describe('@ScheduledTask (fake timers)', () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('fires `every` on slots aligned to multiples of the period, as scheduled records', async () => {
    let manager: TaskManager;
    ({ app, manager } = await boot('2026-04-30T10:00:10.000Z', [Every30]));
    const [info] = await manager.schedules();
    expect(info).toEqual({
      func_name: 'Every30.poll',
      trigger: 'every 30s',
      next_run: '2026-04-30T10:00:30.000Z',
      last_run: null,
      last_status: null,
      last_task_id: null,
    });
    await advanceTo('2026-04-30T10:00:29.999Z');
    expect(app.get(Every30).runs).toBe(0);
    await advanceTo('2026-04-30T10:01:30.000Z');
    await manager.drain();
    const fired = await records(manager, 'Every30.poll');
    expect(fired.map((r) => r.tags.schedule_slot)).toEqual(['2026-04-30T10:00:30.000Z', '2026-04-30T10:01:00.000Z', '2026-04-30T10:01:30.000Z']);
    expect(fired.every((r) => r.source === 'scheduled' && r.status === 'success')).toBe(true);
    expect(app.get(Every30).runs).toBe(3);
    expect(await manager.schedules()).toEqual([
      {
        func_name: 'Every30.poll',
        trigger: 'every 30s',
        next_run: '2026-04-30T10:02:00.000Z',
        last_run: '2026-04-30T10:01:30.000Z',
        last_status: 'success',
        last_task_id: fired[2].task_id,
      },
    ]);
  });

  it('keeps firing on the boundaries over many periods (no drift)', async () => {
    let manager: TaskManager;
    ({ app, manager } = await boot('2026-04-30T10:00:00.000Z', [Every30]));
    await advanceTo('2026-04-30T12:00:00.000Z');
    await manager.drain();
    const fired = await records(manager, 'Every30.poll');
    expect(fired).toHaveLength(240);
    expect(fired.every((r) => Date.parse(r.tags.schedule_slot) % 30_000 === 0)).toBe(true);
    expect(new Set(fired.map((r) => r.tags.schedule_slot)).size).toBe(240);
    expect(fired.every((r) => r.created_at === r.tags.schedule_slot)).toBe(true);
  });

  it('starts again on a boundary when a tick comes late (a blocked event loop), without losing the slot', async () => {
    let manager: TaskManager;
    ({ app, manager } = await boot('2026-04-30T10:00:10.000Z', [Every30]));
    await advanceTo('2026-04-30T10:00:30.000Z');
    // The clock moves 400 ms without timers running, as if the event loop were blocked.
    jest.setSystemTime(Date.now() + 400);
    await advanceTo('2026-04-30T10:02:00.000Z');
    await manager.drain();
    const fired = await records(manager, 'Every30.poll');
    expect(fired.map((r) => [r.tags.schedule_slot, r.created_at])).toEqual([
      ['2026-04-30T10:00:30.000Z', '2026-04-30T10:00:30.000Z'],
      ['2026-04-30T10:01:00.000Z', '2026-04-30T10:01:00.400Z'],
      ['2026-04-30T10:01:30.000Z', '2026-04-30T10:01:30.000Z'],
      ['2026-04-30T10:02:00.000Z', '2026-04-30T10:02:00.000Z'],
    ]);
  });

  it('is still an ordinary background task: addTask enqueues it by hand (source manual), a direct call runs in place', async () => {
    let manager: TaskManager;
    ({ app, manager } = await boot('2026-04-30T10:00:10.000Z', [Every30]));
    const jobs = app.get(Every30);
    const record = await manager.waitFor(manager.addTask(jobs.poll));
    expect(record).toMatchObject({ func_name: 'Every30.poll', source: 'manual', status: 'success', tags: {} });
    await jobs.poll();
    expect(jobs.runs).toBe(2);
    expect(manager.registeredTasks().find((t) => t.name === 'Every30.poll')?.options).toMatchObject({ retries: 1 });
    // A manual run is not the schedule's last run.
    expect((await manager.schedules())[0].last_task_id).toBeNull();
  });

  describe('cron in Europe/Berlin across daylight saving changes', () => {
    it('spring forward (29 March 2026, 02:00 does not exist): fires at 03:00 CEST = 01:00Z, then 02:00 CEST = 00:00Z', async () => {
      let manager: TaskManager;
      ({ app, manager } = await boot('2026-03-28T12:00:00.000Z', [Berlin]));
      expect((await manager.schedules())[0]).toMatchObject({
        trigger: 'cron 0 2 * * * (Europe/Berlin)',
        next_run: '2026-03-29T01:00:00.000Z',
      });
      await advanceTo('2026-03-29T00:59:59.000Z');
      expect(await records(manager, 'Berlin.nightly')).toHaveLength(0);
      await advanceTo('2026-03-29T01:00:01.000Z');
      const fired = await records(manager, 'Berlin.nightly');
      expect(fired.map((r) => r.tags.schedule_slot)).toEqual(['2026-03-29T01:00:00.000Z']);
      expect((await manager.schedules())[0].next_run).toBe('2026-03-30T00:00:00.000Z');
      await advanceTo('2026-03-30T00:00:01.000Z');
      expect((await records(manager, 'Berlin.nightly')).map((r) => r.tags.schedule_slot)).toEqual([
        '2026-03-29T01:00:00.000Z',
        '2026-03-30T00:00:00.000Z',
      ]);
      expect((await manager.schedules())[0].next_run).toBe('2026-03-31T00:00:00.000Z');
    });

    it('fall back (25 October 2026, 02:00 happens twice): fires once, at the first 02:00 (00:00Z), then 02:00 CET = 01:00Z', async () => {
      let manager: TaskManager;
      ({ app, manager } = await boot('2026-10-24T12:00:00.000Z', [Berlin]));
      expect((await manager.schedules())[0].next_run).toBe('2026-10-25T00:00:00.000Z');
      await advanceTo('2026-10-25T01:30:00.000Z');
      expect((await records(manager, 'Berlin.nightly')).map((r) => r.tags.schedule_slot)).toEqual(['2026-10-25T00:00:00.000Z']);
      expect((await manager.schedules())[0].next_run).toBe('2026-10-26T01:00:00.000Z');
      await advanceTo('2026-10-26T01:00:01.000Z');
      expect((await records(manager, 'Berlin.nightly')).map((r) => r.tags.schedule_slot)).toEqual([
        '2026-10-25T00:00:00.000Z',
        '2026-10-26T01:00:00.000Z',
      ]);
    });
  });

  it('runOnStartup fires once as the app starts, then on the schedule', async () => {
    let manager: TaskManager;
    ({ app, manager } = await boot('2026-04-30T10:20:00.000Z', [OnStartup]));
    const atStart = await records(manager, 'hourly.report');
    expect(atStart).toHaveLength(1);
    expect(atStart[0]).toMatchObject({ source: 'scheduled', created_at: '2026-04-30T10:20:00.000Z' });
    expect((await manager.schedules())[0]).toMatchObject({
      func_name: 'hourly.report',
      trigger: 'every 3600s',
      next_run: '2026-04-30T11:00:00.000Z',
      last_task_id: atStart[0].task_id,
      last_run: '2026-04-30T10:20:00.000Z',
    });
    await advanceTo('2026-04-30T11:00:00.000Z');
    expect(await records(manager, 'hourly.report')).toHaveLength(2);
  });

  it('skips a slot while the previous run is still going (overlap: false)', async () => {
    let manager: TaskManager;
    ({ app, manager } = await boot('2026-04-30T10:00:05.000Z', [Slow]));
    const slow = app.get(Slow);
    await advanceTo('2026-04-30T10:00:10.000Z');
    expect(slow.started).toBe(1);
    const [first] = await records(manager, 'Slow.exclusive');
    expect((await manager.schedules())[0]).toMatchObject({ last_status: 'running', last_task_id: first.task_id });
    await advanceTo('2026-04-30T10:00:30.000Z');
    expect(slow.started).toBe(1);
    expect(await records(manager, 'Slow.exclusive')).toHaveLength(1);
    slow.gate.open();
    await manager.waitFor(first.task_id);
    slow.gate = new Gate();
    slow.gate.open();
    await advanceTo('2026-04-30T10:00:40.000Z');
    await manager.drain();
    expect((await records(manager, 'Slow.exclusive')).map((r) => r.tags.schedule_slot)).toEqual([
      '2026-04-30T10:00:10.000Z',
      '2026-04-30T10:00:40.000Z',
    ]);
  });

  it('with overlap: true, starts the next run while the previous one is still going', async () => {
    let manager: TaskManager;
    ({ app, manager } = await boot('2026-04-30T10:00:05.000Z', [SlowOverlapping]));
    const slow = app.get(SlowOverlapping);
    await advanceTo('2026-04-30T10:00:30.000Z');
    expect(slow.started).toBe(3);
    expect((await records(manager, 'SlowOverlapping.overlapping')).map((r) => r.status)).toEqual(['running', 'running', 'running']);
    slow.gate.open();
    await manager.drain();
  });

  it('streams schedule changes on schedules$: the list on subscribe, then on each firing and each finished run', async () => {
    let manager: TaskManager;
    ({ app, manager } = await boot('2026-04-30T10:00:10.000Z', [Every30]));
    const seen: { next_run: string | null; last_status: string | null }[] = [];
    const subscription = app
      .get(TaskScheduler)
      .schedules$.subscribe((list) => seen.push({ next_run: list[0].next_run, last_status: list[0].last_status }));
    await advanceTo('2026-04-30T10:00:30.000Z');
    await manager.drain();
    await jest.advanceTimersByTimeAsync(0);
    expect(seen).toEqual([
      { next_run: '2026-04-30T10:00:30.000Z', last_status: null },
      { next_run: '2026-04-30T10:01:00.000Z', last_status: 'pending' },
      { next_run: '2026-04-30T10:01:00.000Z', last_status: 'success' },
    ]);
    let completed = false;
    subscription.add(() => (completed = true));
    await app.close();
    app = undefined;
    expect(completed).toBe(true);
  });

  it('stops every timer at shutdown', async () => {
    let manager: TaskManager;
    ({ app, manager } = await boot('2026-04-30T10:00:10.000Z', [Every30, Berlin]));
    expect(jest.getTimerCount()).toBeGreaterThan(0);
    await app.close();
    app = undefined;
    expect(jest.getTimerCount()).toBe(0);
    expect((await manager.schedules()).map((s) => s.next_run)).toEqual([null, null]);
  });

  describe('with a database (leases stubbed)', () => {
    /** A backend whose only used method, tryAcquireLease, is scripted per lease name. */
    function fakeBackend(decide: (name: string, ttl: number) => Promise<boolean>) {
      const calls: { name: string; ttl: number }[] = [];
      const backend = {
        tryAcquireLease: jest.fn((name: string, _holder: string, ttl: number) => {
          calls.push({ name, ttl });
          return decide(name, ttl);
        }),
      };
      const stub = (nest: INestApplication) => jest.spyOn(nest.get(TaskBackend), 'tryAcquireLease').mockImplementation(backend.tryAcquireLease);
      return { calls, stub };
    }

    it('fires a slot only when this instance takes its lease `schedule:<name>:<slot ISO>`', async () => {
      const lost = 'schedule:Minutely.minute:2026-04-30T10:02:00.000Z';
      const fake = fakeBackend(async (name) => name !== lost);
      let manager: TaskManager;
      ({ app, manager } = await boot('2026-04-30T10:00:30.000Z', [Minutely], {}, fake.stub));
      await advanceTo('2026-04-30T10:03:00.000Z');
      await manager.drain();
      expect((await records(manager, 'Minutely.minute')).map((r) => r.tags.schedule_slot)).toEqual([
        '2026-04-30T10:01:00.000Z',
        '2026-04-30T10:03:00.000Z',
      ]);
      expect(fake.calls.filter((c) => c.name.endsWith('Z')).map((c) => c.name)).toEqual([
        'schedule:Minutely.minute:2026-04-30T10:01:00.000Z',
        lost,
        'schedule:Minutely.minute:2026-04-30T10:03:00.000Z',
      ]);
      // Slot leases outlive their slot by far; the "run is live" lease is taken, then given back (ttl 0).
      expect(fake.calls.find((c) => c.name === lost)!.ttl).toBeGreaterThanOrEqual(3600);
      const run = fake.calls.filter((c) => c.name === 'schedule:Minutely.minute:run').map((c) => c.ttl);
      expect(run).toEqual([30, 0, 30, 0]);
    });

    it('skips a slot whose lease keeps failing (after retries within the slot), logs once, and fires the next one', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      const failing = 'schedule:Minutely.minute:2026-04-30T10:01:00.000Z';
      const fake = fakeBackend(async (name) => {
        if (name === failing) throw new Error('connection refused');
        return true;
      });
      let manager: TaskManager;
      ({ app, manager } = await boot('2026-04-30T10:00:30.000Z', [Minutely], {}, fake.stub));
      await advanceTo('2026-04-30T10:02:00.000Z');
      await manager.drain();
      expect((await records(manager, 'Minutely.minute')).map((r) => r.tags.schedule_slot)).toEqual(['2026-04-30T10:02:00.000Z']);
      // Tried at once, then after 1 s, 5 s and 15 s (all within half the period).
      expect(fake.calls.filter((c) => c.name === failing)).toHaveLength(4);
      const warnings = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('Schedule lease'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('connection refused');
      expect(warnings[0]).toContain('skipped');
    });

    it('gives up on a lease call that hangs and keeps scheduling', async () => {
      const hanging = 'schedule:Minutely.minute:2026-04-30T10:01:00.000Z';
      const fake = fakeBackend((name) => (name === hanging ? new Promise<boolean>(() => undefined) : Promise.resolve(true)));
      let manager: TaskManager;
      ({ app, manager } = await boot('2026-04-30T10:00:30.000Z', [Minutely], {}, fake.stub));
      await advanceTo('2026-04-30T10:03:00.000Z');
      await manager.drain();
      expect((await records(manager, 'Minutely.minute')).map((r) => r.tags.schedule_slot)).toEqual([
        '2026-04-30T10:02:00.000Z',
        '2026-04-30T10:03:00.000Z',
      ]);
    });

    it('skips the slot when another instance holds the "previous run still going" lease', async () => {
      const fake = fakeBackend(async (name) => !name.endsWith(':run'));
      let manager: TaskManager;
      ({ app, manager } = await boot('2026-04-30T10:00:30.000Z', [Minutely], {}, fake.stub));
      await advanceTo('2026-04-30T10:02:00.000Z');
      expect(await records(manager, 'Minutely.minute')).toHaveLength(0);
    });
  });
});

describe('@ScheduledTask declared wrongly: startup errors naming class and method', () => {
  async function bootFails(provider: any): Promise<Error> {
    const moduleRef = await Test.createTestingModule({ imports: [TaskManagerModule.forRoot()], providers: [provider] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    const error = await app.init().then(
      () => null,
      (e: Error) => e,
    );
    await app.close();
    if (!error) throw new Error('expected startup to fail');
    return error;
  }

  const cases: [string, () => any, RegExp][] = [
    [
      'neither every nor cron',
      () => {
        @Injectable()
        class Neither {
          @ScheduledTask({} as any) async run() {}
        }
        return Neither;
      },
      /Neither\.run needs exactly one of "every" \(seconds\) or "cron"/,
    ],
    [
      'both every and cron',
      () => {
        @Injectable()
        class Both {
          @ScheduledTask({ every: 5, cron: '* * * * *' }) async run() {}
        }
        return Both;
      },
      /Both\.run needs exactly one of/,
    ],
    [
      'a cron field out of range',
      () => {
        @Injectable()
        class BadCron {
          @ScheduledTask({ cron: '61 * * * *' }) async run() {}
        }
        return BadCron;
      },
      /BadCron\.run has an invalid cron expression "61 \* \* \* \*": .*out of range.*5 fields/,
    ],
    [
      'six fields (seconds)',
      () => {
        @Injectable()
        class Six {
          @ScheduledTask({ cron: '0 0 9 * * *' }) async run() {}
        }
        return Six;
      },
      /Six\.run has an invalid cron expression "0 0 9 \* \* \*": expected 5 fields, got 6/,
    ],
    [
      'an alias',
      () => {
        @Injectable()
        class Alias {
          @ScheduledTask({ cron: '@daily' }) async run() {}
        }
        return Alias;
      },
      /Alias\.run has an invalid cron expression "@daily": expected 5 fields, got an alias/,
    ],
    [
      'an unknown timezone',
      () => {
        @Injectable()
        class Mars {
          @ScheduledTask({ cron: '0 9 * * *', timezone: 'Mars/Olympus' }) async run() {}
        }
        return Mars;
      },
      /Mars\.run has an unknown timezone "Mars\/Olympus"/,
    ],
    [
      'a timezone with every',
      () => {
        @Injectable()
        class TzEvery {
          @ScheduledTask({ every: 5, timezone: 'UTC' }) async run() {}
        }
        return TzEvery;
      },
      /option "timezone" on TzEvery\.run must be left out with "every"/,
    ],
    [
      'every below 1 s',
      () => {
        @Injectable()
        class Fast {
          @ScheduledTask({ every: 0.5 }) async run() {}
        }
        return Fast;
      },
      /option "every" on Fast\.run must be a number of seconds from 1 to 2147483 .*, got 0\.5/,
    ],
    [
      'every beyond what a timer holds',
      () => {
        @Injectable()
        class Monthly {
          @ScheduledTask({ every: 30 * 86400 }) async run() {}
        }
        return Monthly;
      },
      /option "every" on Monthly\.run must be a number of seconds from 1 to 2147483 \(about 24 days; use cron for longer periods\), got 2592000/,
    ],
    [
      'an unknown option',
      () => {
        @Injectable()
        class Typo {
          @ScheduledTask({ every: 5, runOnStart: true } as any) async run() {}
        }
        return Typo;
      },
      /option "runOnStart" on Typo\.run must be left out: it is not an option/,
    ],
    [
      'a non-boolean flag',
      () => {
        @Injectable()
        class Flag {
          @ScheduledTask({ every: 5, overlap: 'yes' } as any) async run() {}
        }
        return Flag;
      },
      /option "overlap" on Flag\.run must be true or false/,
    ],
    [
      '@BackgroundTask below it',
      () => {
        @Injectable()
        class Below {
          @ScheduledTask({ every: 5 }) @BackgroundTask() async run() {}
        }
        return Below;
      },
      /Below\.run has both @ScheduledTask and @BackgroundTask/,
    ],
    [
      '@BackgroundTask above it',
      () => {
        @Injectable()
        class Above {
          @BackgroundTask() @ScheduledTask({ every: 5 }) async run() {}
        }
        return Above;
      },
      /Above\.run has both @ScheduledTask and @BackgroundTask/,
    ],
    [
      'a request-scoped provider',
      () => {
        @Injectable({ scope: Scope.REQUEST })
        class PerRequest {
          @ScheduledTask({ every: 5 }) async run() {}
        }
        return PerRequest;
      },
      /PerRequest\.run, which is request-scoped/,
    ],
  ];

  it.each(cases)('%s', async (_title, make, message) => {
    const error = await bootFails(make());
    expect(error).toBeInstanceOf(TaskDefinitionError);
    expect(error.message).toMatch(message);
  });

  it('rejects a bad retries option through the background task rules', async () => {
    @Injectable()
    class BadRetries {
      @ScheduledTask({ every: 5, retries: -1 })
      async run(): Promise<void> {}
    }
    expect((await bootFails(BadRetries)).message).toMatch(/"retries" on BadRetries\.run/);
  });
});
