import { integerParam, ownValue, parseInteger, parseSince, repeatedParam, singleParam, textParam } from '../../../lib/web/pipes/query-values';
import { expectHttpError } from './expect-http';

describe('query values', () => {
  it('reads own keys only', () => {
    expect(ownValue({ a: '1' }, 'a')).toBe('1');
    expect(ownValue({}, 'toString')).toBeUndefined();
    expect(ownValue(null, 'a')).toBeUndefined();
    expect(ownValue('a=1', 'a')).toBeUndefined();
  });

  it('takes a single parameter once, as a string', () => {
    expect(singleParam({ a: 'x' }, 'a')).toBe('x');
    expect(singleParam({}, 'a')).toBeUndefined();
    expectHttpError(() => singleParam({ a: ['x', 'y'] }, 'a'), 400, 'Query parameter "a" must be given at most once');
    expectHttpError(() => singleParam({ a: { b: 'x' } }, 'a'), 400, 'Query parameter "a" must be a single plain value');
    expectHttpError(() => singleParam({ a: 1 }, 'a'), 400, /single plain value/);
  });

  it('takes a repeated parameter as a list of strings', () => {
    expect(repeatedParam({ t: 'a' }, 't')).toEqual(['a']);
    expect(repeatedParam({ t: ['a', 'b'] }, 't')).toEqual(['a', 'b']);
    expect(repeatedParam({}, 't')).toEqual([]);
    expectHttpError(() => repeatedParam({ t: ['a', { x: 'y' }] }, 't'), 400, /"t" must be a single plain value/);
  });

  it('limits free text to 256 characters', () => {
    expect(textParam({ q: 'x'.repeat(256) }, 'q')).toHaveLength(256);
    expectHttpError(() => textParam({ q: 'x'.repeat(257) }, 'q'), 400, '"q" must be at most 256 characters long');
  });

  it('reads decimal integers within bounds only', () => {
    expect(parseInteger('n', '0', 0, 5)).toBe(0);
    expect(parseInteger('n', '5', 0, 5)).toBe(5);
    for (const raw of ['6', '-1', '1e3', '1.0', ' 1', '', '0x1', '9'.repeat(16)]) {
      expectHttpError(() => parseInteger('n', raw, 0, 5), 400, /^Invalid n .*: must be an integer from 0 to 5$/);
    }
    expect(integerParam({}, 'n', 1, 9, 7)).toBe(7);
    expect(integerParam({ n: '3' }, 'n', 1, 9, 7)).toBe(3);
  });

  it('reads since as hours, days or all', () => {
    const now = 1_000_000_000_000;
    expect(parseSince('all', now)).toBeNull();
    expect(parseSince('0h', now)).toBe(now);
    expect(parseSince('2h', now)).toBe(now - 2 * 3_600_000);
    expect(parseSince('3d', now)).toBe(now - 3 * 86_400_000);
    for (const raw of ['6m', '', '1.5h', 'h', '12345678h', 'ALL', '\u0000']) {
      expectHttpError(() => parseSince(raw, now), 400, /^Invalid since value .*: use '<N>h', '<N>d' or 'all'$/);
    }
  });
});
