/**
 * Times (epoch ms) of failed sign-ins per key, oldest first, within a sliding
 * window. Map order is least recently failed first, so past `maxKeys` keys the
 * expired ones go first, then the least recently failed: memory stays bounded
 * whatever an attacker sends.
 */
export class FailureLog {
  private readonly entries = new Map<string, number[]>();

  constructor(
    private readonly maxKeys: number,
    /** Times kept per key; older ones no longer change any answer. */
    private readonly keepPerKey: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The times after `since`, oldest first (a copy); a key left empty is dropped. */
  recent(key: string, since: number): number[] {
    const times = this.entries.get(key);
    if (!times) return [];
    const kept = times.filter((t) => t > since);
    if (kept.length === 0) this.entries.delete(key);
    return kept;
  }

  add(key: string, time: number, since: number): void {
    const times = this.recent(key, since);
    times.push(time);
    if (times.length > this.keepPerKey) times.splice(0, times.length - this.keepPerKey);
    this.entries.delete(key);
    this.entries.set(key, times);
    if (this.entries.size > this.maxKeys) this.evict(since);
  }

  /** Takes back one entry at `time` (an attempt that turned out not to be a failure). */
  remove(key: string, time: number): void {
    const times = this.entries.get(key);
    if (!times) return;
    const at = times.lastIndexOf(time);
    if (at >= 0) times.splice(at, 1);
    if (times.length === 0) this.entries.delete(key);
  }

  clear(key: string): void {
    this.entries.delete(key);
  }

  private evict(since: number): void {
    for (const [key, times] of this.entries) {
      if (times[times.length - 1] <= since) this.entries.delete(key);
    }
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxKeys) break;
      this.entries.delete(key);
    }
  }
}
