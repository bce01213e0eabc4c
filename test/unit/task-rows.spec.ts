import { Dialect } from '../../lib/persistence/typeorm/dialect';
import { searchable, searchTextOf, toRowParams, WRITE_COLUMNS } from '../../lib/persistence/typeorm/task-rows';
import { blankTask } from '../support/task-data';

/** The row text saveBatch writes: the same as JSON.stringify gives, whatever shortcut builds it. */
describe('task rows', () => {
  const dialect = new Dialect('sqlite');
  const column = (row: unknown[], name: (typeof WRITE_COLUMNS)[number]) => row[WRITE_COLUMNS.indexOf(name)];

  it('writes the JSON of logs, tags and arguments, empty or not', () => {
    class Labels {
      toJSON() {
        return { from: 'toJSON' };
      }
    }
    const shapes: [unknown, unknown, unknown][] = [
      [[], {}, []],
      [['a line'], { env: 'prod' }, [1, 'two', { three: 3 }]],
      [[], Object.create({ inherited: 'x' }) as Record<string, string>, [null]],
      [[], new Labels() as unknown as Record<string, string>, [[]]],
      [[], { dropped: undefined } as unknown as Record<string, string>, []],
    ];
    for (const [logs, tags, args] of shapes) {
      const row = toRowParams(blankTask({ logs: logs as string[], tags: tags as Record<string, string>, args: args as unknown[] }), dialect);
      expect([column(row, 'logs'), column(row, 'tags'), column(row, 'args')]).toEqual([
        JSON.stringify(logs),
        JSON.stringify(tags),
        JSON.stringify(args),
      ]);
    }
  });

  it('searches the id, the function name and the error, lowercased, control characters mapped', () => {
    const task = blankTask({ id: 'ID-1', funcName: 'Jobs.Send', error: 'Bad\u0000Input' });
    expect(searchTextOf(task)).toBe(['id-1', 'jobs.send', searchable('bad\u0000input')].join('\u001f'));
    expect(searchTextOf({ ...task, error: null })).toBe('id-1\u001fjobs.send\u001f');
  });
});
