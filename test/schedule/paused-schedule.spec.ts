import { INestApplication, Injectable, Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ScheduledTask, TaskManager, TaskManagerModule } from '../../lib';

@Injectable()
class Minutely {
  @ScheduledTask({ every: 60 })
  async minute(): Promise<void> {}
}

describe('@ScheduledTask of a paused function (fake timers)', () => {
  let app: INestApplication;
  let manager: TaskManager;

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'], now: new Date('2026-04-30T10:00:30.000Z') });
    const moduleRef = await Test.createTestingModule({
      imports: [TaskManagerModule.forRoot({ shutdownGracePeriod: 0 })],
      providers: [Minutely],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    manager = app.get(TaskManager);
  });
  afterEach(async () => {
    await app.close();
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  const advanceTo = (iso: string) => jest.advanceTimersByTimeAsync(Date.parse(iso) - Date.now());
  const slots = async () => (await manager.listTasks({ funcName: 'Minutely.minute' })).items.map((r) => r.tags.schedule_slot).reverse();

  it('skips and logs each slot while paused, creating no record, and fires again once resumed', async () => {
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    await manager.pause('Minutely.minute');
    await advanceTo('2026-04-30T10:03:00.000Z');
    expect(await slots()).toEqual([]);
    expect(log.mock.calls.map((c) => String(c[0])).filter((m) => m.startsWith('Skipped Minutely.minute'))).toEqual([
      'Skipped Minutely.minute at 2026-04-30T10:01:00.000Z: the function is paused',
      'Skipped Minutely.minute at 2026-04-30T10:02:00.000Z: the function is paused',
      'Skipped Minutely.minute at 2026-04-30T10:03:00.000Z: the function is paused',
    ]);
    await manager.resume('Minutely.minute');
    await advanceTo('2026-04-30T10:04:00.000Z');
    await manager.drain();
    expect(await slots()).toEqual(['2026-04-30T10:04:00.000Z']);
  });
});
