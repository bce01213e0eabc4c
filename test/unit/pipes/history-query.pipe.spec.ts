import { HistoryQueryPipe } from '../../../lib/web/pipes/history-query.pipe';
import { expectHttpError } from './expect-http';

describe('HistoryQueryPipe', () => {
  const pipe = new HistoryQueryPipe();

  it.each<[string, number]>([
    ['min', 60_000],
    ['hour', 3_600_000],
    ['day', 86_400_000],
  ])('turns value and unit %s into a cutoff', (unit, ms) => {
    const before = Date.now();
    const cutoff = pipe.transform({ value: '2', unit });
    expect(cutoff).toBeGreaterThanOrEqual(before - 2 * ms);
    expect(cutoff).toBeLessThanOrEqual(Date.now() - 2 * ms);
  });

  it('accepts up to 100 years', () => {
    expect(() => pipe.transform({ value: String(100 * 365), unit: 'day' })).not.toThrow();
    expect(() => pipe.transform({ value: String(100 * 365 * 24 * 60), unit: 'min' })).not.toThrow();
  });

  it.each<[string, Record<string, unknown>, RegExp | string]>([
    ['no unit', { value: '1' }, 'Query parameter "unit" is required'],
    ['no value', { unit: 'day' }, 'Query parameter "value" is required'],
    ['an unknown unit', { value: '1', unit: 'week' }, 'Invalid unit "week": use min, hour or day'],
    ['value 0', { value: '0', unit: 'day' }, /^Invalid value "0": must be an integer from 1 to 36500$/],
    ['over 100 years', { value: '36501', unit: 'day' }, /from 1 to 36500/],
    ['a negative value', { value: '-1', unit: 'hour' }, /Invalid value/],
    ['a repeated unit', { value: '1', unit: ['day', 'day'] }, 'Query parameter "unit" must be given at most once'],
    ['a repeated value', { value: ['1', '2'], unit: 'day' }, /"value" must be given at most once/],
    ['an object value', { value: { a: '1' }, unit: 'day' }, /"value" must be a single plain value/],
  ])('answers 400 to %s', (_label, query, message) => {
    expectHttpError(() => pipe.transform(query), 400, message);
  });
});
