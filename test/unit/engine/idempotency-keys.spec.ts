import { IdempotencyKeys } from '../../../lib/engine/idempotency-keys';
import type { TaskStorage } from '../../../lib/engine/task-storage';
import { blankTask } from '../../support/task-data';

describe('IdempotencyKeys.forget', () => {
  it('reads no record while no key is held (every evicted record passes through it)', () => {
    const keys = new IdempotencyKeys({ persistent: false } as TaskStorage, () => undefined);
    const task = blankTask();
    let reads = 0;
    Object.defineProperty(task, 'idempotencyKey', {
      get: () => {
        reads++;
        return null;
      },
    });
    keys.forget(task);
    expect(reads).toBe(0);
  });

  it('still releases a held key', () => {
    const task = blankTask({ idempotencyKey: 'k' });
    const keys = new IdempotencyKeys({ persistent: false } as TaskStorage, (id) => (id === task.id ? task : undefined));
    keys.bind(task);
    expect(keys.holder('k')).toBe(task.id);
    keys.forget(task);
    expect(keys.holder('k')).toBeUndefined();
  });
});
