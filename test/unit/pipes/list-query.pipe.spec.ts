import { ListQueryPipe } from '../../../lib/web/pipes/list-query.pipe';
import { expectHttpError } from './expect-http';

describe('ListQueryPipe', () => {
  const pipe = new ListQueryPipe({ displayFuncArgs: false });

  it('defaults to the first 200 records', () => {
    expect(pipe.transform({})).toEqual({ limit: 200, offset: 0 });
  });

  it('reads every filter', () => {
    const before = Date.now();
    const query = pipe.transform({
      limit: '5000',
      offset: '10',
      status: 'failed',
      func_name: 'Jobs.ok',
      instance: 'host/12/abcd',
      q: 'boom',
      search: 'needle',
      sort: '-duration',
      since: '1h',
      tag: ['team:a', 'region:eu:west'],
    });
    expect(query).toEqual({
      limit: 5000,
      offset: 10,
      status: 'failed',
      funcName: 'Jobs.ok',
      instance: 'host/12/abcd',
      q: 'boom',
      search: 'needle',
      sort: '-duration',
      since: expect.any(Number),
      tags: { team: 'a', region: 'eu:west' },
    });
    expect(query.since).toBeGreaterThanOrEqual(before - 3_600_000);
    expect(query.since).toBeLessThanOrEqual(Date.now() - 3_600_000);
  });

  it('ignores empty text filters and since=all', () => {
    expect(pipe.transform({ func_name: '', instance: '', q: '', search: '', sort: '', since: 'all' })).toEqual({ limit: 200, offset: 0 });
  });

  it('searches arguments only when they are displayed', () => {
    expect(pipe.transform({ search: 'x' }).searchArgs).toBeUndefined();
    expect(new ListQueryPipe({ displayFuncArgs: true }).transform({ search: 'x' }).searchArgs).toBe(true);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['limit 0', { limit: '0' }, /^Invalid limit "0": must be an integer from 1 to 5000$/],
    ['limit 5001', { limit: '5001' }, /limit/],
    ['a negative offset', { offset: '-1' }, /offset/],
    ['an unknown status', { status: 'done' }, /^Invalid status "done": use one of pending, running, success, failed, interrupted, cancelled$/],
    ['an unknown sort', { sort: 'args' }, /^Invalid sort "args": use one of .* \(a leading '-' sorts descending\)$/],
    ['a bad since', { since: '6m' }, /since/],
    ['a long func_name', { func_name: 'x'.repeat(257) }, /"func_name" must be at most 256 characters long/],
    ['a long q', { q: 'x'.repeat(257) }, /"q" must be at most 256/],
    ['a long instance', { instance: 'x'.repeat(257) }, /"instance" must be at most 256/],
    ['a repeated instance', { instance: ['a', 'b'] }, /"instance" must be given at most once/],
    ['a long search', { search: 'x'.repeat(257) }, /"search" must be at most 256/],
    ['a tag without key', { tag: ':a' }, /^Invalid tag filter ":a": use tag=key:value \(key not empty\)$/],
    ['a tag without colon', { tag: 'a' }, /Invalid tag filter/],
    ['a long tag', { tag: `k:${'x'.repeat(511)}` }, /"tag" must be at most 512 characters long/],
    ['21 tags', { tag: Array.from({ length: 21 }, (_, i) => `k${i}:v`) }, /^At most 20 tag filters may be given$/],
    ['a tag key twice', { tag: ['k:a', 'k:b'] }, /^Tag key "k" is given twice with different values$/],
    ['a repeated limit', { limit: ['1', '2'] }, /^Query parameter "limit" must be given at most once$/],
    ['a repeated status', { status: ['failed', 'failed'] }, /at most once/],
    ['an object value', { status: { $ne: 'x' } }, /^Query parameter "status" must be a single plain value$/],
    ['a tag object', { tag: { a: 'b' } }, /"tag" must be a single plain value/],
  ])('answers 400 to %s', (_label, query, message) => {
    expectHttpError(() => pipe.transform(query), 400, message);
  });

  it('keeps a tag key such as __proto__ as data, and the same pair twice once', () => {
    const tags = pipe.transform({ tag: ['__proto__:x', '__proto__:x'] }).tags!;
    expect(Object.keys(tags)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(tags)).toBe(Object.prototype);
  });

  it('accepts the limits exactly', () => {
    // Integers are read up to 15 digits, so the largest offset that passes is 10^15 - 1 (below MAX_SAFE_INTEGER).
    expect(pipe.transform({ limit: '1', offset: '999999999999999' })).toEqual({ limit: 1, offset: 999_999_999_999_999 });
    expectHttpError(() => pipe.transform({ offset: '1000000000000000' }), 400, /offset/);
    expect(Object.keys(pipe.transform({ tag: Array.from({ length: 20 }, (_, i) => `k${i}:v`) }).tags!)).toHaveLength(20);
  });
});
