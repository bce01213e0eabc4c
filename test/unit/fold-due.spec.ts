/**
 * When a search indexer folds its queue (fold-due.ts, shared by SQLite's and PostgreSQL's):
 * at once when the process is idle; under writes that never pause, once a second; and at
 * every tick once the queue passes its bound, so that a load faster than the once-a-second
 * folds cannot grow the queue (which every search reads whole) without end.
 */
import { foldDue } from '../../lib/persistence/typeorm/fold-due';

describe('search fold timing', () => {
  it('folds when idle, whatever the queue', () => {
    expect(foldDue(true, 1, 0)).toBe('idle');
  });

  it('under writes, waits a second from the last chance to fold', () => {
    expect(foldDue(false, 5_000, 999)).toBeNull();
    expect(foldDue(false, 5_000, 1_000)).toBe('forced');
  });

  it('under writes, folds at every tick once 200,000 rows are queued', () => {
    expect(foldDue(false, 199_999, 0)).toBeNull();
    expect(foldDue(false, 200_000, 0)).toBe('forced');
  });

  it('takes the bound it is given', () => {
    expect(foldDue(false, 999, 0, 1_000)).toBeNull();
    expect(foldDue(false, 1_000, 0, 1_000)).toBe('forced');
  });
});
