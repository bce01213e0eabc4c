import { Inject, Injectable } from '@nestjs/common';
import { isIPv4, isIPv6 } from 'node:net';
import { AdminTuning, TASKFLOW_ADMIN_TUNING } from '../options/admin-tuning';
import { FailureLog } from './failure-log';

/** A sign-in that was let through; exactly one of its methods is called when the backend has answered. */
export interface LoginAttempt {
  /** Right password: the (address, username) count is cleared; the attempt is not a failure. */
  succeed(): void;
  /** Wrong password: the attempt stays counted. */
  fail(): void;
  /** The backend failed: the attempt is taken back, as if it had not happened. */
  cancel(): void;
}

export type LoginAttemptStart = { allowed: true; attempt: LoginAttempt } | { allowed: false; retryAfter: number };

/**
 * Two limits on failed sign-ins, both in a sliding window (`loginWindowMs`, 15 min):
 *
 * - per (client address, username): after `loginMaxFailures` (5) failures, further
 *   attempts are refused until the oldest of them leaves the window;
 * - per client address over all usernames (password spraying): past
 *   `loginAddressMaxFailures` (20) failures, each further attempt must wait
 *   `loginAddressBaseDelayMs` (1 s) after the previous one, doubling with each
 *   failure up to the window, and never longer than until the count drops back
 *   under the budget. The attacker slows down; other addresses are not affected.
 *
 * An attempt is counted when it starts, before the backend is awaited, so
 * concurrent requests cannot all pass the check while a slow backend thinks; a
 * success or a backend failure takes it back. A success clears the pair's count but
 * not the address's, so signing in to one account does not refill a sprayer's budget.
 * IPv6 clients are counted per /64 for the address budget (one host usually owns one).
 */
@Injectable()
export class LoginThrottle {
  private readonly pairs: FailureLog;
  private readonly addresses: FailureLog;

  constructor(@Inject(TASKFLOW_ADMIN_TUNING) private readonly tuning: AdminTuning) {
    this.pairs = new FailureLog(tuning.loginThrottleMaxKeys, tuning.loginMaxFailures);
    // Past 16 doublings the wait is the whole window anyway.
    this.addresses = new FailureLog(tuning.loginThrottleMaxKeys, tuning.loginAddressMaxFailures + 16);
  }

  static key(address: string, username: string): string {
    return `${address}\u0000${username.normalize('NFKC').toLowerCase()}`;
  }

  /** Lets an attempt start (and counts it) or says how many seconds to wait. Synchronous, so checks cannot interleave. */
  begin(address: string, username: string): LoginAttemptStart {
    const wait = this.retryAfter(address, username);
    if (wait > 0) return { allowed: false, retryAfter: wait };
    const pair = LoginThrottle.key(address, username);
    const bucket = addressBucket(address);
    const now = this.tuning.now();
    const since = now - this.tuning.loginWindowMs;
    this.pairs.add(pair, now, since);
    this.addresses.add(bucket, now, since);
    let settled = false;
    const settle = (action: () => void) => () => {
      if (settled) return;
      settled = true;
      action();
    };
    return {
      allowed: true,
      attempt: {
        succeed: settle(() => {
          this.pairs.clear(pair);
          this.addresses.remove(bucket, now);
        }),
        fail: settle(() => undefined),
        cancel: settle(() => {
          this.pairs.remove(pair, now);
          this.addresses.remove(bucket, now);
        }),
      },
    };
  }

  /** Seconds until an attempt for `username` from `address` is allowed; 0 when it is allowed now. */
  retryAfter(address: string, username: string): number {
    const now = this.tuning.now();
    const since = now - this.tuning.loginWindowMs;
    return Math.max(
      this.pairWait(this.pairs.recent(LoginThrottle.key(address, username), since), now),
      this.addressWait(this.addresses.recent(addressBucket(address), since), now),
    );
  }

  /** Number of (address, username) pairs tracked. */
  get size(): number {
    return this.pairs.size;
  }

  private pairWait(times: number[], now: number): number {
    const max = this.tuning.loginMaxFailures;
    if (times.length < max) return 0;
    return seconds(times[times.length - max] + this.tuning.loginWindowMs - now);
  }

  private addressWait(times: number[], now: number): number {
    const budget = this.tuning.loginAddressMaxFailures;
    const n = times.length;
    if (n < budget) return 0;
    const delay = Math.min(this.tuning.loginAddressBaseDelayMs * 2 ** (n - budget), this.tuning.loginWindowMs);
    const until = Math.min(times[n - 1] + delay, times[n - budget] + this.tuning.loginWindowMs);
    return until > now ? seconds(until - now) : 0;
  }
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** The key of the address budget: IPv4 as is (also when IPv4-mapped), IPv6 by its /64 prefix. */
export function addressBucket(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  const bare = address.split('%')[0];
  if (!isIPv6(bare) || bare.includes('.')) return address;
  const [head, tail] = bare.includes('::') ? bare.split('::') : [bare, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
