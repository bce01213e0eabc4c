import { RetryFailedQueryPipe } from '../../../lib/web/pipes/retry-failed-query.pipe';
import { expectHttpError } from './expect-http';

describe('RetryFailedQueryPipe', () => {
  const pipe = new RetryFailedQueryPipe();

  it('defaults to the last 6 hours, every function', () => {
    const before = Date.now();
    const { since, funcName } = pipe.transform({});
    expect(since).toBeGreaterThanOrEqual(before - 6 * 3_600_000);
    expect(since).toBeLessThanOrEqual(Date.now() - 6 * 3_600_000);
    expect(funcName).toBeUndefined();
  });

  it('reads since=all and a function name; an empty name is no filter', () => {
    expect(pipe.transform({ since: 'all', func_name: 'Jobs.fail' })).toEqual({ since: null, funcName: 'Jobs.fail' });
    expect(pipe.transform({ since: 'all', func_name: '' })).toEqual({ since: null });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['since=6m', { since: '6m' }, /^Invalid since value "6m"/],
    ['an empty since', { since: '' }, /since/],
    ['a repeated since', { since: ['all', '1h'] }, /^Query parameter "since" must be given at most once$/],
    ['since=1.5h', { since: '1.5h' }, /since/],
    ['a long func_name', { func_name: 'x'.repeat(257) }, /"func_name" must be at most 256 characters long/],
    ['an object func_name', { func_name: { a: 'b' } }, /"func_name" must be a single plain value/],
  ])('answers 400 to %s', (_label, query, message) => {
    expectHttpError(() => pipe.transform(query), 400, message);
  });
});
