import { DataSource } from 'typeorm';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { pageOf } from '../../lib/storage/task-filter';
import { TaskData } from '../../lib/task/task-record';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { blankTask } from '../support/task-data';

/**
 * A control character in `q` or `search` matches the same records on every database and
 * in memory: those whose text contains it. On SQLite a NUL ended the LIKE pattern, so
 * `q=%00` matched every row.
 */
const tasks: TaskData[] = [
  blankTask({ funcName: 'Mail.send', status: 'failed', error: 'Error: plain failure' }),
  blankTask({ funcName: 'Mail.send', status: 'failed', error: 'Error: a\u0000nul inside' }),
  blankTask({ funcName: 'Mail.send', status: 'failed', error: 'Error: two\nlines' }),
  blankTask({ funcName: 'Mail.send', status: 'failed', error: 'Error: a\u0001start-of-heading' }),
];
const [plain, withNul, withNewline, withSoh] = tasks;

const cases: [string, string, TaskData[]][] = [
  ['NUL', '\u0000', [withNul]],
  ['a newline', '\n', [withNewline]],
  ['SOH', '\u0001', [withSoh]],
  ['the separator between id, name and error', '\u001f', []],
  ['text around a NUL', 'a\u0000nul', [withNul]],
  ['plain text', 'plain', [plain]],
];

function ids(list: { id: string }[]): string[] {
  return list.map((t) => t.id).sort();
}

describe('control characters in q, in memory', () => {
  it.each(cases)('q with %s', (_label, q, expected) => {
    expect(ids(pageOf(tasks, { q }).items)).toEqual(ids(expected));
    expect(ids(pageOf(tasks, { search: q }).items)).toEqual(ids(expected));
  });
});

describeEachDatabase('control characters in q', (target) => {
  let dataSource: DataSource;
  let backend: TypeOrmTaskBackend;

  beforeAll(async () => {
    dataSource = new DataSource(target.options);
    backend = new TypeOrmTaskBackend(dataSource, { tablePrefix: uniquePrefix() });
    await backend.open();
    await backend.saveBatch(tasks);
  });

  afterAll(async () => {
    await backend?.dropTables().catch(() => undefined);
    await backend?.close();
    if (dataSource?.isInitialized) await dataSource.destroy();
  });

  it.each(cases)('q with %s matches what memory matches', async (_label, q, expected) => {
    expect(ids((await backend.listTasks({ q })).items)).toEqual(ids(expected));
    expect(ids((await backend.listTasks({ search: q })).items)).toEqual(ids(expected));
  });
});
