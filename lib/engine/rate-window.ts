/**
 * The latest starts of one rate-limit key, for a sliding window: at most `max` starts
 * in any `windowMs`. Holds at most `max` start times (a ring: a new start replaces the
 * oldest once full), so a start is allowed when fewer than `max` are kept or the oldest
 * kept is at least `windowMs` old.
 */
export class RateWindow {
  private readonly starts: number[] = [];
  /** Index of the oldest start once the ring is full. */
  private head = 0;

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** When the next start is allowed: `now` if it is now, else the time the oldest start leaves the window. */
  nextAllowed(now: number): number {
    if (this.starts.length < this.max) return now;
    return Math.max(now, this.starts[this.head] + this.windowMs);
  }

  /** Starts allowed at `now` before the window is full. */
  allowance(now: number): number {
    let inWindow = 0;
    for (const start of this.starts) if (start > now - this.windowMs) inWindow++;
    return this.max - inWindow;
  }

  record(start: number): void {
    // Kept in order even if the clock steps back: such a start counts as the latest one.
    const last = this.starts.length === 0 ? -Infinity : this.starts[(this.head + this.starts.length - 1) % this.starts.length];
    const at = Math.max(start, last);
    if (this.starts.length < this.max) {
      this.starts.push(at);
      return;
    }
    this.starts[this.head] = at;
    this.head = (this.head + 1) % this.max;
  }

  /** True when every start kept has left the window: the key has no state worth keeping. */
  idle(now: number): boolean {
    return this.allowance(now) === this.max;
  }
}
