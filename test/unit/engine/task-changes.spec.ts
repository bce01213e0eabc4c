import { TaskChanges } from '../../../lib/engine/task-changes';
import type { TaskData } from '../../../lib/task/task-record';
import { blankTask } from '../../support/task-data';

describe('TaskChanges listeners', () => {
  const present = (task: TaskData) => ({ task_id: task.id }) as never;

  it('hears every published change, before the streams, until removed', () => {
    const changes = new TaskChanges(present);
    const heard: string[] = [];
    const unlisten = changes.listen((task) => heard.push(`listener ${task.id}`));
    changes.changedTasks.subscribe((task) => heard.push(`stream ${task.id}`));
    const a = blankTask({ id: 'a' });
    changes.publish(a);
    changes.publish(blankTask({ id: 'b' }));
    unlisten();
    changes.publish(a);
    expect(heard).toEqual(['listener a', 'stream a', 'listener b', 'stream b', 'stream a']);
  });

  it('a listener removed while a change is delivered does not make the next one miss it', () => {
    const changes = new TaskChanges(present);
    const heard: string[] = [];
    const first = changes.listen(() => {
      heard.push('first');
      first();
    });
    changes.listen(() => heard.push('second'));
    changes.publish(blankTask());
    changes.publish(blankTask());
    expect(heard).toEqual(['first', 'second', 'second']);
  });

  it('a listener that throws does not stop the change: the others and the streams get it, the error is thrown outside', () => {
    jest.useFakeTimers();
    try {
      const changes = new TaskChanges(present);
      const heard: string[] = [];
      changes.listen(() => {
        throw new Error('listener broke');
      });
      changes.listen((task) => heard.push(`listener ${task.id}`));
      changes.changedTasks.subscribe((task) => heard.push(`stream ${task.id}`));
      expect(() => changes.publish(blankTask({ id: 'a' }))).not.toThrow();
      expect(heard).toEqual(['listener a', 'stream a']);
      expect(() => jest.runOnlyPendingTimers()).toThrow('listener broke');
    } finally {
      jest.useRealTimers();
    }
  });

  it('complete() ends the listeners with the streams', () => {
    const changes = new TaskChanges(present);
    const heard: string[] = [];
    changes.listen((task) => heard.push(task.id));
    changes.complete();
    changes.publish(blankTask({ id: 'late' }));
    expect(heard).toEqual([]);
  });
});
