import { DataSource } from 'typeorm';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { Dialect } from '../../lib/persistence/typeorm/dialect';
import { buildFilter } from '../../lib/persistence/typeorm/query-builder';
import { TaskData } from '../../lib/task/task-record';
import { TaskQuery } from '../../lib/task/task-query';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { blankTask } from '../support/task-data';
import { matchesQuery } from '../../lib/storage/task-filter';

/**
 * The search index (schema step 7) narrows `q` and `search` to its candidates; the
 * answers stay those of the scan before it, on a set of tricky strings: LIKE's own
 * characters, quotes, unicode, uppercase, needles under three characters (which scan).
 */
const seeded: TaskData[] = [
  blankTask({ funcName: 'Mail.send', status: 'failed', error: 'Error: 100% done_ok', tags: { tenant: 'acme' } }),
  blankTask({ funcName: 'Mail.send', status: 'failed', error: 'Error: 100 percent done', tags: { tenant: 'Acme Corp' } }),
  blankTask({ funcName: 'Billing.charge', status: 'failed', error: 'it\'s "quoted" here', args: ["O'Brien", { note: 'say "hi"' }] }),
  blankTask({ funcName: 'Billing.charge', status: 'success', error: null, tags: { city: 'Zürich', emoji: '😀 party' }, args: ['Ünïcødé ARG'] }),
  blankTask({ funcName: 'Report.BUILD', status: 'success', error: 'UPPER CASE ERROR', args: ['!bang! _under_ %pct%'] }),
  blankTask({ funcName: 'Report.build', status: 'failed', error: 'straße café naïve', tags: { k: 'v!%_' } }),
  blankTask({ funcName: 'Sync.pull', status: 'success', error: null, args: [{ deep: { key: 'needle-in-args' } }] }),
  // Encrypted: stored as `[]` beside the cipher text (as the engine writes it), never searched.
  blankTask({ funcName: 'Sync.pull', status: 'success', error: null, args: [], argsCipher: 'secret-needle' }),
  // Non-ASCII capitals in tags and arguments: SQLite's own LOWER() leaves them as they are.
  blankTask({
    funcName: 'Crm.sync',
    status: 'success',
    error: 'ÉCHEC partiel',
    tags: { owner: 'ÉMILE Ørsted' },
    args: ['ÜBER Straße', { city: 'ÅRHUS' }],
  }),
];

const needles = [
  '100%',
  '0% d',
  'done_',
  '_ok',
  '%',
  '_',
  '!',
  '!bang!',
  "it's",
  '"quoted"',
  '"tenant":"acme"',
  'acme',
  'ACME',
  'zürich',
  'Zürich',
  '😀 p',
  'ünïcødé',
  'upper case',
  'report.build',
  'strasse',
  'straße',
  'café',
  'needle',
  'needle-in',
  'v!%_',
  'ab',
  'zz',
  'mail.send',
  'nothing-matches-this',
  'émile',
  'ÉMILE',
  'ørsted',
  'über',
  'århus',
  'échec',
];

function ids(list: { id: string }[]): string[] {
  return list.map((t) => t.id).sort();
}

describeEachDatabase('search through the index', (target) => {
  let dataSource: DataSource;
  let backend: TypeOrmTaskBackend;
  let dialect: Dialect;

  /** The scan before step 7: the same LIKE filters, without the index's candidates. */
  async function scanned(query: TaskQuery): Promise<string[]> {
    const filter = buildFilter(query, dialect);
    const rows = (await dataSource.query(
      dialect.placeholders(`SELECT id FROM ${dialect.id(backend.tableNames.tasks)}${filter.where}`),
      filter.params,
    )) as {
      id: string;
    }[];
    return rows.map((r) => String(r.id)).sort();
  }

  async function found(query: TaskQuery): Promise<string[]> {
    return ids((await backend.listTasks({ ...query, limit: 5000 })).items);
  }

  beforeAll(async () => {
    dataSource = new DataSource(target.options);
    backend = new TypeOrmTaskBackend(dataSource, { tablePrefix: uniquePrefix() });
    await backend.open();
    dialect = new Dialect(target.name === 'sqlite' ? 'sqlite' : target.name);
    await backend.saveBatch(seeded);
  });

  afterAll(async () => {
    await backend?.dropTables().catch(() => undefined);
    await backend?.close();
    if (dataSource?.isInitialized) await dataSource.destroy();
  });

  async function expectScanAnswers(): Promise<void> {
    for (const needle of needles) {
      for (const query of [{ q: needle }, { search: needle }, { search: needle, searchArgs: true }, { q: needle, search: needle }] as TaskQuery[]) {
        const expected = await scanned(query);
        expect({ query, ids: await found(query) }).toEqual({ query, ids: expected });
      }
    }
  }

  /** Every needle's answer is the memory store's (matchesQuery), before and after the indexer ran. */
  async function expectMemoryAnswers(): Promise<void> {
    for (const needle of needles) {
      for (const query of [{ q: needle }, { search: needle }, { search: needle, searchArgs: true }] as TaskQuery[]) {
        const expected = ids(seeded.filter((task) => matchesQuery(task, query)));
        expect({ query, ids: await found(query) }).toEqual({ query, ids: expected });
      }
    }
  }

  it('answers as the memory store does, non-ASCII capitals included, before and after the indexer ran', async () => {
    await expectMemoryAnswers();
    await backend.indexSearch();
    await expectMemoryAnswers();
    expect(await found({ search: 'émile' })).toEqual(ids([seeded[8]]));
    expect(await found({ search: 'über', searchArgs: true })).toEqual(ids([seeded[8]]));
  });

  it('answers as the scan did, before the indexer ran (SQLite: rows still queued)', async () => {
    await expectScanAnswers();
    // A few answers spelled out, so that the scan itself is not wrong in the same way.
    expect(await found({ q: '100%' })).toEqual(ids([seeded[0]]));
    expect(await found({ search: 'needle', searchArgs: true })).toEqual(ids([seeded[6]]));
    expect(await found({ search: '"tenant":"acme"' })).toEqual(ids([seeded[0]]));
  });

  it('answers as the scan did once the index holds every row', async () => {
    await backend.indexSearch();
    await expectScanAnswers();
    expect(await found({ q: 'done_' })).toEqual(ids([seeded[0]]));
    expect(await found({ q: 'upper case' })).toEqual(ids([seeded[4]]));
  });

  it('finds a row right after it is written', async () => {
    await backend.indexSearch();
    const fresh = blankTask({ funcName: 'Fresh.task', status: 'failed', error: 'brand-new failure xyz' });
    await backend.saveBatch([fresh]);
    expect(await found({ q: 'new failure xyz' })).toEqual([fresh.id]);
  });

  it('follows a changed error and changed tags, before and after the indexer runs', async () => {
    const task = blankTask({ funcName: 'Change.me', status: 'running', error: null, tags: { stage: 'alpha-stage' } });
    await backend.saveBatch([task]);
    await backend.indexSearch();
    expect(await found({ search: 'alpha-stage' })).toEqual([task.id]);
    const changed = { ...task, status: 'failed' as const, error: 'omega-error', tags: { stage: 'beta-stage' }, version: 2 };
    await backend.saveBatch([changed]);
    for (const drained of [false, true]) {
      if (drained) await backend.indexSearch();
      expect(await found({ q: 'omega-error' })).toEqual([task.id]);
      expect(await found({ search: 'beta-stage' })).toEqual([task.id]);
      expect(await found({ search: 'alpha-stage' })).toEqual([]);
    }
    // A progress update leaves the text as it is: still found, by the index.
    await backend.saveBatch([{ ...changed, progress: 0.5, version: 3 }]);
    expect(await found({ q: 'omega-error' })).toEqual([task.id]);
  });

  it('forgets rows retention deleted', async () => {
    const old = blankTask({ funcName: 'Old.gone', status: 'success', error: 'vanishing-row', createdAt: 1000, endTime: 1000, startTime: 1000 });
    await backend.saveBatch([old]);
    await backend.indexSearch();
    expect(await found({ q: 'vanishing-row' })).toEqual([old.id]);
    expect(await backend.deleteTerminalBefore(2000, 100)).toEqual([old.id]);
    expect(await found({ q: 'vanishing-row' })).toEqual([]);
    await backend.indexSearch();
    expect(await found({ q: 'vanishing-row' })).toEqual([]);
    if (target.name === 'postgres') {
      // Its side row and every queued id are gone too.
      const t = backend.tableNames;
      expect(await dataSource.query(`SELECT task_id FROM "${t.search}" WHERE task_id = $1`, [old.id])).toEqual([]);
      expect(await dataSource.query(`SELECT task_id FROM "${t.searchQueue}"`)).toEqual([]);
    }
  });

  it('rebuilds the index from scratch (SQLite, after a VACUUM) and answers the same before and after it caught up', async () => {
    await backend.indexSearch();
    if (target.name === 'sqlite') await dataSource.query('VACUUM');
    await backend.rebuildSearchIndex();
    await expectScanAnswers();
    await backend.indexSearch();
    await expectScanAnswers();
  });
});
