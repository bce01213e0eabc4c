import { performance } from 'node:perf_hooks';
import { LeaseFence } from '../../../lib/engine/lease-fence';
import { TaskQueue } from '../../../lib/engine/task-queue';
import { blankTask } from '../../support/task-data';
import type { RegisteredTask } from '../../../lib/discovery/registered-task';

describe('LeaseFence', () => {
  it('is open until armed, then only until the confirmed lease (from when the heartbeat was sent) less a margin', () => {
    const fence = new LeaseFence();
    expect(fence.open).toBe(true);
    const now = performance.now();
    fence.confirm(now - 10_000, 30_000);
    expect(fence.open).toBe(true);
    expect(fence.lapsed).toBe(false);
    const expired = new LeaseFence();
    // Sent 29.5 s ago with a 30 s lease: within the 1 s margin, so possibly over already.
    expired.confirm(now - 29_500, 30_000);
    expect(expired.open).toBe(false);
    expect(expired.lapsed).toBe(true);
    expired.confirm(performance.now(), 30_000);
    expect(expired.open).toBe(true);
    // Closed once since the last clear: the caller must check ownership before clearing.
    expect(expired.lapsed).toBe(true);
    expired.clear();
    expect(expired.lapsed).toBe(false);
  });
});

describe('TaskQueue admission', () => {
  it('holds what the admission says to hold until reopened, and never starts what it drops', async () => {
    const started: string[] = [];
    let verdict: 'start' | 'hold' | 'drop' = 'hold';
    const queue = new TaskQueue(
      10,
      ({ task }) => {
        started.push(task.id);
        return true;
      },
      ({ task }) => (task.id === 'dropped' ? 'drop' : verdict),
    );
    queue.unhold();
    const registered = {} as RegisteredTask;
    queue.push(blankTask({ id: 'held' }), registered);
    queue.push(blankTask({ id: 'dropped' }), registered);
    await Promise.resolve();
    expect(started).toEqual([]);
    verdict = 'start';
    queue.reopen();
    await Promise.resolve();
    expect(started).toEqual(['held']);
  });
});
