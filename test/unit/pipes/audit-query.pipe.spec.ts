import { AuditQueryPipe } from '../../../lib/web/pipes/audit-query.pipe';
import { expectHttpError } from './expect-http';

describe('AuditQueryPipe', () => {
  const pipe = new AuditQueryPipe();

  it('defaults to the newest 1000 entries', () => {
    expect(pipe.transform({})).toEqual({ limit: 1000, offset: 0 });
    expect(pipe.transform({ limit: '5000', offset: '3' })).toEqual({ limit: 5000, offset: 3 });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['limit 0', { limit: '0' }, /^Invalid limit "0": must be an integer from 1 to 5000$/],
    ['limit 5001', { limit: '5001' }, /limit/],
    ['offset x', { offset: 'x' }, /^Invalid offset "x"/],
    ['a repeated limit', { limit: ['1', '1'] }, /must be given at most once/],
    ['an object offset', { offset: { a: '1' } }, /must be a single plain value/],
  ])('answers 400 to %s', (_label, query, message) => {
    expectHttpError(() => pipe.transform(query), 400, message);
  });
});
