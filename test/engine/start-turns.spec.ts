import { INestApplication, Injectable } from '@nestjs/common';
import { BackgroundTask, TaskManager } from '../../lib';
import { createManagerApp } from '../support/app';

@Injectable()
class Busy {
  done = 0;

  /** Holds the event loop ~0.5 ms, then settles at once: a burst of these is all CPU. */
  @BackgroundTask()
  async spin(): Promise<void> {
    const until = performance.now() + 0.5;
    while (performance.now() < until);
    this.done++;
  }

  quickDone = 0;

  /** Settles at once. */
  @BackgroundTask()
  async quick(): Promise<void> {
    this.quickDone++;
  }
}

describe('the start loop yields to the event loop during a burst', () => {
  let app: INestApplication;
  let manager: TaskManager;
  let busy: Busy;

  beforeEach(async () => {
    ({ app, manager } = await createManagerApp({ maxConcurrentTasks: 32 }, { providers: [Busy] }));
    busy = app.get(Busy);
  });

  afterEach(() => app.close());

  it('lets a callback queued behind the burst run after a few ms of work, not after the whole burst', async () => {
    // 600 tasks, fewer than the 1,000 starts per turn: only the time bound makes it yield.
    for (let i = 0; i < 600; i++) manager.addTask(busy.spin);
    const doneWhenYielded = new Promise<number>((resolve) => setImmediate(() => resolve(busy.done)));
    await manager.drain();
    // Past 256 starts it checks the clock every 32: ~128 ms of work by then, well past its 2 ms.
    expect(await doneWhenYielded).toBeLessThan(400);
    expect(busy.done).toBe(600);
  });

  it("watches for the turn's end only from the 8th start it counts: a request adding one task schedules no setImmediate", async () => {
    const immediate = jest.spyOn(global, 'setImmediate');
    try {
      for (let start = 0; start < 7; start++) {
        manager.addTask(busy.quick);
        await manager.drain();
      }
      expect(immediate).not.toHaveBeenCalled();
      // The 8th start since the count was last reset watches for the turn's end, which resets it.
      manager.addTask(busy.quick);
      await manager.drain();
      expect(immediate).toHaveBeenCalledTimes(1);
    } finally {
      immediate.mockRestore();
    }
    expect(busy.quickDone).toBe(8);
  });
});
