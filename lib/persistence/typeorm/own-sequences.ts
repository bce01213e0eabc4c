import { ChangeCursor } from '../../storage/change-feed';

/** Own sequence numbers remembered at most (a burst commits one per 5,000 rows). */
const REMEMBERED = 10_000;

/**
 * The change sequence numbers this backend's own write transactions committed (MySQL/
 * MariaDB, SQLite): the poll's counterpart of PostgreSQL's NOTIFY origin. Every row
 * carrying such a number was written here, from this instance's own state, so the
 * poller has nothing to learn from it; reading them back cost the main thread a row
 * through TypeORM per task written (a 100,000-task burst on SQLite: ~100 polls of
 * 1,000 rows, ~10 % of the main thread in the profile). The cursor moves over them
 * instead.
 */
export class OwnSequences {
  private readonly committed = new Set<number>();

  /** A transaction of this backend holding `seq` committed. */
  add(seq: number): void {
    this.committed.add(seq);
    if (this.committed.size > REMEMBERED) this.committed.delete(this.committed.values().next().value!);
  }

  /**
   * The cursor moved over the own numbers that come next, and those numbers (so the
   * reader counts them seen, not as gaps); the same cursor and none when the next is
   * not one.
   */
  skip(cursor: ChangeCursor): { cursor: ChangeCursor; passed: number[] } {
    const passed: number[] = [];
    let seq = cursor.seq;
    if (cursor.id !== null) {
      // A page ended inside a number: the rest of it is still to read, unless it is ours.
      if (!this.committed.has(seq)) return { cursor, passed };
      passed.push(seq);
    }
    while (this.committed.has(seq + 1)) passed.push(++seq);
    if (passed.length === 0) return { cursor, passed };
    for (const n of passed) this.committed.delete(n);
    return { cursor: { seq, id: null }, passed };
  }
}
