/**
 * The change sequence numbers a poller has skipped. Each write transaction takes the next
 * number before it writes, so one that commits after a later one leaves, for a while, a
 * gap below the cursor: its rows appear only once it commits. The poller watches each gap
 * (reading the rows that carry those numbers on every round) until it fills or `waitMs`
 * has passed: a transaction that rolled back, or whose rows were all written again since
 * under a higher number, leaves a gap that never fills. At most `max` are watched (the
 * oldest dropped first).
 */
export class ChangeGaps {
  /** Gap number → when it was first seen (ms). */
  private readonly open = new Map<number, number>();
  private highest: number | null = null;

  constructor(
    private readonly waitMs: number,
    private readonly max: number,
  ) {}

  /** The cursor starts after `seq`: nothing below it is watched. */
  start(seq: number): void {
    this.highest = seq;
    this.open.clear();
  }

  /** Numbers seen on a page, in order: those skipped between them (and the last one seen before) become gaps. */
  see(seqs: readonly number[], now: number): void {
    for (const seq of seqs) {
      if (this.highest === null || seq <= this.highest) {
        this.open.delete(seq);
        continue;
      }
      // A jump larger than what is watched at most: only its top end can matter.
      for (let missing = Math.max(this.highest + 1, seq - this.max); missing < seq; missing++) this.open.set(missing, now);
      this.highest = seq;
      while (this.open.size > this.max) this.open.delete(this.open.keys().next().value!);
    }
  }

  /** These numbers have rows now. */
  filled(seqs: readonly number[]): void {
    for (const seq of seqs) this.open.delete(seq);
  }

  /** The gaps still worth reading (expired ones are forgotten). */
  waiting(now: number): number[] {
    for (const [seq, since] of this.open) if (now - since > this.waitMs) this.open.delete(seq);
    return [...this.open.keys()];
  }
}
