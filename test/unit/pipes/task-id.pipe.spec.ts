import { RouteNotFoundException } from '../../../lib/web/route-not-found.exception';
import { RESERVED_SEGMENTS, TaskIdPipe } from '../../../lib/web/pipes/task-id.pipe';
import { expectHttpError } from './expect-http';

describe('TaskIdPipe', () => {
  const pipe = new TaskIdPipe();

  it('passes ids through', () => {
    expect(pipe.transform('3fa85f64-5717-4562-b3fc-2c963f66afa6')).toBe('3fa85f64-5717-4562-b3fc-2c963f66afa6');
    expect(pipe.transform('a'.repeat(128))).toHaveLength(128);
    expect(pipe.transform('job:1.2_x')).toBe('job:1.2_x');
  });

  it.each(['', 'a'.repeat(129), '../etc', '-a', 'a b', 'a/b', '\u0000', 'ü'])('answers 404 "Task not found" to %j', (raw) => {
    expectHttpError(() => pipe.transform(raw), 404, 'Task not found');
  });

  it.each([undefined, 1, ['a'], { a: 'b' }])('answers 404 to the non-string %j', (raw) => {
    expectHttpError(() => pipe.transform(raw), 404, 'Task not found');
  });

  it('answers a fixed route name as an unknown route', () => {
    for (const segment of RESERVED_SEGMENTS) expect(() => pipe.transform(segment)).toThrow(RouteNotFoundException);
    expectHttpError(() => pipe.transform('metrics'), 404);
  });
});
