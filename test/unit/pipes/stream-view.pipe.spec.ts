import { StreamViewPipe } from '../../../lib/web/pipes/stream-view.pipe';
import { expectHttpError } from './expect-http';

describe('StreamViewPipe', () => {
  const pipe = new StreamViewPipe({ displayFuncArgs: false });

  it('gives no view (a plain stream) without view, task or a list filter; other keys change nothing', () => {
    expect(pipe.transform({})).toBeNull();
    expect(pipe.transform({ limit: '5', sort: 'status', cache: '1' })).toBeNull();
  });

  it('takes the filters of GET {path} as that route reads them, and the detail task', () => {
    expect(pipe.transform({ view: '1' })).toEqual({ filter: {}, task: null });
    expect(pipe.transform({ status: 'failed', func_name: 'Mailer.send', tag: ['team:a', 'env:prod'], q: 'boom', limit: '5' })).toEqual({
      filter: { status: 'failed', funcName: 'Mailer.send', tags: { team: 'a', env: 'prod' }, q: 'boom' },
      task: null,
    });
    expect(pipe.transform({ task: 'a1b2-c3' })).toEqual({ filter: {}, task: 'a1b2-c3' });
    const before = Date.now();
    const { since } = pipe.transform({ since: '2h' })!.filter;
    expect(since).toBeGreaterThanOrEqual(before - 2 * 3_600_000);
    expect(since).toBeLessThanOrEqual(Date.now() - 2 * 3_600_000);
    expect(pipe.transform({ since: 'all' })).toEqual({ filter: {}, task: null });
  });

  it('searches arguments only when they are displayed', () => {
    expect(new StreamViewPipe({ displayFuncArgs: true }).transform({ search: 'x' })!.filter.searchArgs).toBe(true);
    expect(pipe.transform({ search: 'x' })!.filter.searchArgs).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, RegExp | string]>([
    ['view other than 1', { view: 'yes' }, /Invalid view value "yes": use view=1/],
    ['a task that cannot be an id', { task: 'no spaces' }, /Invalid task/],
    ['a repeated task', { task: ['a', 'b'] }, /"task" must be given at most once/],
    ['a bad status', { status: 'nope' }, /Invalid status/],
    ['a bad since', { since: '3w' }, /Invalid since value/],
    ['a bad tag', { tag: 'nocolon' }, /Invalid tag filter/],
  ])('answers 400 to %s', (_label, query, message) => {
    expectHttpError(() => pipe.transform(query), 400, message);
  });
});
