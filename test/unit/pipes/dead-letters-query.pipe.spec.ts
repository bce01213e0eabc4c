import { DeadLettersQueryPipe } from '../../../lib/web/pipes/dead-letters-query.pipe';
import { expectHttpError } from './expect-http';

describe('DeadLettersQueryPipe', () => {
  const pipe = new DeadLettersQueryPipe();

  it('defaults to the last 7 days, every function', () => {
    const before = Date.now();
    const filter = pipe.transform({});
    expect(filter.since).toBeGreaterThanOrEqual(before - 7 * 86_400_000);
    expect(filter.since).toBeLessThanOrEqual(Date.now() - 7 * 86_400_000);
    expect(filter).not.toHaveProperty('funcName');
  });

  it('reads since and a function name', () => {
    expect(pipe.transform({ since: 'all', func_name: 'Jobs.fail' })).toEqual({ since: null, funcName: 'Jobs.fail' });
    expect(pipe.transform({ since: 'all', func_name: '' })).toEqual({ since: null });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a bad since', { since: '7w' }, /^Invalid since value "7w"/],
    ['a repeated since', { since: ['1d', '2d'] }, /"since" must be given at most once/],
    ['a long func_name', { func_name: 'x'.repeat(257) }, /^"func_name" must be at most 256 characters long$/],
    ['a repeated func_name', { func_name: ['a', 'b'] }, /"func_name" must be given at most once/],
  ])('answers 400 to %s', (_label, query, message) => {
    expectHttpError(() => pipe.transform(query), 400, message);
  });
});
