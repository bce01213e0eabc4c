import { Inject, Injectable } from '@nestjs/common';
import { AdminTuning, TASKFLOW_ADMIN_TUNING } from '../options/admin-tuning';

/**
 * Failed logins per (client address, username), in a sliding window (SPEC §4: 5
 * within 15 minutes). Memory is bounded: past `loginThrottleMaxKeys` pairs, expired
 * ones are dropped first, then the least recently failed.
 */
@Injectable()
export class LoginThrottle {
  /** Key → failure times (epoch ms), oldest first; Map order = least recently failed first. */
  private readonly failures = new Map<string, number[]>();

  constructor(@Inject(TASKFLOW_ADMIN_TUNING) private readonly tuning: AdminTuning) {}

  static key(address: string, username: string): string {
    return `${address}\u0000${username.normalize('NFKC').toLowerCase()}`;
  }

  /** Seconds until another attempt is allowed, or 0 when it is allowed now. */
  retryAfter(key: string): number {
    const times = this.recent(key);
    if (times.length < this.tuning.loginMaxFailures) return 0;
    const oldest = times[times.length - this.tuning.loginMaxFailures];
    return Math.max(1, Math.ceil((oldest + this.tuning.loginWindowMs - this.tuning.now()) / 1000));
  }

  fail(key: string): void {
    const times = this.recent(key);
    times.push(this.tuning.now());
    if (times.length > this.tuning.loginMaxFailures) times.splice(0, times.length - this.tuning.loginMaxFailures);
    this.failures.delete(key);
    this.failures.set(key, times);
    if (this.failures.size > this.tuning.loginThrottleMaxKeys) this.evict();
  }

  succeed(key: string): void {
    this.failures.delete(key);
  }

  get size(): number {
    return this.failures.size;
  }

  private recent(key: string): number[] {
    const times = this.failures.get(key);
    if (!times) return [];
    const since = this.tuning.now() - this.tuning.loginWindowMs;
    const kept = times.filter((t) => t > since);
    if (kept.length === 0) this.failures.delete(key);
    return kept;
  }

  private evict(): void {
    const since = this.tuning.now() - this.tuning.loginWindowMs;
    for (const [key, times] of this.failures) {
      if (times[times.length - 1] <= since) this.failures.delete(key);
    }
    for (const key of this.failures.keys()) {
      if (this.failures.size <= this.tuning.loginThrottleMaxKeys) break;
      this.failures.delete(key);
    }
  }
}
