import { performance } from 'node:perf_hooks';

/**
 * Whether this instance may still start durable work it owns in a shared database.
 * Other instances may claim that work once this instance's lease has ended, and the
 * lease lasts `ttl` from when the database wrote the last heartbeat, which is no
 * earlier than when that heartbeat was sent: so the lease is known to be live until
 * send time + ttl (less a margin for the two clocks' rates), measured on this
 * process's monotonic clock. Past that, durable tasks wait until a heartbeat succeeds
 * again and their ownership has been checked. Open until armed (no database).
 */
export class LeaseFence {
  private confirmedUntil = Infinity;
  private wasClosed = false;

  /** A heartbeat sent at `sentAt` (performance.now()) succeeded. */
  confirm(sentAt: number, ttlMs: number): void {
    const margin = Math.min(1000, ttlMs / 10);
    const until = sentAt + ttlMs - margin;
    this.confirmedUntil = this.confirmedUntil === Infinity ? until : Math.max(this.confirmedUntil, until);
  }

  /** True while the last confirmed lease is certainly live; once false, `lapsed` stays true until cleared. */
  get open(): boolean {
    if (performance.now() < this.confirmedUntil) return true;
    this.wasClosed = true;
    return false;
  }

  /** The fence closed since the last clear(): work held here may have been claimed by others. */
  get lapsed(): boolean {
    return this.wasClosed || !this.open;
  }

  clear(): void {
    this.wasClosed = false;
  }
}
