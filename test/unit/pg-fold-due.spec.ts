/**
 * When PostgreSQL's search indexer folds its queue (pg-search-indexer.ts): at once when the
 * process is idle; under writes that never pause, once a second; and at every tick once the
 * queue passes its bound, so that a load faster than the once-a-second folds cannot grow the
 * queue (which every search reads whole) without end.
 */
import { foldDue } from '../../lib/persistence/typeorm/pg-search-indexer';

describe('PostgreSQL search fold timing', () => {
  it('folds when idle, whatever the queue', () => {
    expect(foldDue(true, 1, 0)).toBe(true);
  });

  it('under writes, waits a second from the last chance to fold', () => {
    expect(foldDue(false, 5_000, 999)).toBe(false);
    expect(foldDue(false, 5_000, 1_000)).toBe(true);
  });

  it('under writes, folds at every tick once 200,000 rows are queued', () => {
    expect(foldDue(false, 199_999, 0)).toBe(false);
    expect(foldDue(false, 200_000, 0)).toBe(true);
  });
});
