import { MAX_THROUGHPUT_MINUTES } from '../../../lib/task/task-insights';
import { ThroughputQueryPipe } from '../../../lib/web/pipes/throughput-query.pipe';
import { expectHttpError } from './expect-http';

describe('ThroughputQueryPipe', () => {
  const pipe = new ThroughputQueryPipe();

  it('defaults to 60 minutes and accepts 1 to the maximum', () => {
    expect(pipe.transform({})).toBe(60);
    expect(pipe.transform({ minutes: '1' })).toBe(1);
    expect(pipe.transform({ minutes: String(MAX_THROUGHPUT_MINUTES) })).toBe(MAX_THROUGHPUT_MINUTES);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['0', { minutes: '0' }, new RegExp(`^Invalid minutes "0": must be an integer from 1 to ${MAX_THROUGHPUT_MINUTES}$`)],
    ['over the maximum', { minutes: String(MAX_THROUGHPUT_MINUTES + 1) }, /minutes/],
    ['a repeated value', { minutes: ['5', '5'] }, /"minutes" must be given at most once/],
    ['an object', { minutes: { a: '1' } }, /"minutes" must be a single plain value/],
  ])('answers 400 to %s', (_label, query, message) => {
    expectHttpError(() => pipe.transform(query), 400, message);
  });
});
