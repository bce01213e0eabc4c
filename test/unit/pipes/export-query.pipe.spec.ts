import { DEFAULT_EXPORT_ROWS, MAX_EXPORT_ROWS } from '../../../lib/task/request-limits';
import { ExportQueryPipe } from '../../../lib/web/pipes/export-query.pipe';
import { expectHttpError } from './expect-http';

describe('ExportQueryPipe', () => {
  const pipe = new ExportQueryPipe({ displayFuncArgs: false });

  it('takes the list filters, and limit as a number of rows (not a page)', () => {
    expect(pipe.transform({})).toEqual({ rows: DEFAULT_EXPORT_ROWS, filter: { limit: 200, offset: 0 } });
    expect(pipe.transform({ limit: String(MAX_EXPORT_ROWS), status: 'failed', sort: 'func_name', tag: 'team:a' })).toEqual({
      rows: MAX_EXPORT_ROWS,
      filter: { limit: 200, offset: 0, status: 'failed', sort: 'func_name', tags: { team: 'a' } },
    });
  });

  it('searches arguments only when they are displayed', () => {
    expect(new ExportQueryPipe({ displayFuncArgs: true }).transform({ search: 'x' }).filter.searchArgs).toBe(true);
    expect(pipe.transform({ search: 'x' }).filter.searchArgs).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, RegExp | string]>([
    ['limit 0', { limit: '0' }, /^Invalid limit "0": must be an integer from 1 to 100000$/],
    ['limit over 100,000', { limit: '100001' }, /limit/],
    ['an offset', { offset: '0' }, 'export.csv takes no offset'],
    ['a repeated offset', { offset: ['1', '2'] }, /"offset" must be given at most once/],
    ['a repeated limit', { limit: ['1', '2'] }, /"limit" must be given at most once/],
    ['a bad status', { status: 'nope' }, /Invalid status/],
  ])('answers 400 to %s', (_label, query, message) => {
    expectHttpError(() => pipe.transform(query), 400, message);
  });
});
