import { LoginThrottle, LoginAttemptStart, addressBucket } from '../../lib/auth/login-throttle';
import { AdminTuning, DEFAULT_ADMIN_TUNING } from '../../lib/options/admin-tuning';

const MINUTE = 60_000;

/** A throttle on a fake clock: `clock.now` is what it reads. */
function throttleAt(tuning: Partial<AdminTuning> = {}): { throttle: LoginThrottle; clock: { now: number } } {
  const clock = { now: 0 };
  return { throttle: new LoginThrottle({ ...DEFAULT_ADMIN_TUNING, ...tuning, now: () => clock.now }), clock };
}

function fail(throttle: LoginThrottle, address: string, username: string): void {
  const start = throttle.begin(address, username);
  if (!start.allowed) throw new Error(`refused, retry after ${start.retryAfter} s`);
  start.attempt.fail();
}

function waitOf(start: LoginAttemptStart): number {
  return start.allowed ? 0 : start.retryAfter;
}

describe('LoginThrottle', () => {
  it('keeps at most loginThrottleMaxKeys pairs, dropping expired ones first, then the least recently failed', () => {
    const { throttle, clock } = throttleAt({ loginThrottleMaxKeys: 3, loginWindowMs: 1000, loginAddressMaxFailures: 1e6 });
    fail(throttle, 'ip', 'a');
    clock.now = 10;
    for (const user of ['b', 'c']) fail(throttle, 'ip', user);
    clock.now = 1005;
    fail(throttle, 'ip', 'd');
    expect(throttle.size).toBe(3);
    for (let i = 0; i < 5; i++) fail(throttle, 'ip', 'e');
    expect(throttle.size).toBe(3);
    expect(throttle.retryAfter('ip', 'e')).toBe(1);
    for (let i = 0; i < 1000; i++) fail(throttle, 'ip', `k${i}`);
    expect(throttle.size).toBe(3);
  });

  it('counts per address and username, case-insensitively, in a sliding window', () => {
    const { throttle, clock } = throttleAt();
    expect(LoginThrottle.key('10.0.0.1', 'ADMIN')).toBe(LoginThrottle.key('10.0.0.1', 'Admin'));
    expect(LoginThrottle.key('10.0.0.2', 'admin')).not.toBe(LoginThrottle.key('10.0.0.1', 'Admin'));
    for (let i = 0; i < 5; i++) {
      fail(throttle, '10.0.0.1', i % 2 ? 'Admin' : 'admin');
      clock.now += MINUTE;
    }
    // Failures at 0, 1, 2, 3, 4 min; now 5 min: the oldest leaves the window at 15 min.
    expect(throttle.retryAfter('10.0.0.1', 'ADMIN')).toBe(600);
    expect(waitOf(throttle.begin('10.0.0.1', 'admin'))).toBe(600);
    expect(throttle.retryAfter('10.0.0.2', 'admin')).toBe(0);
    expect(throttle.retryAfter('10.0.0.1', 'other')).toBe(0);
    clock.now = 15 * MINUTE;
    expect(throttle.retryAfter('10.0.0.1', 'admin')).toBe(0);
    fail(throttle, '10.0.0.1', 'admin');
    expect(throttle.retryAfter('10.0.0.1', 'admin')).toBe(60);
    const start = throttle.begin('10.0.0.2', 'admin');
    expect(start.allowed).toBe(true);
    if (start.allowed) start.attempt.succeed();
    expect(throttle.retryAfter('10.0.0.1', 'admin')).toBe(60);
  });

  it('counts an attempt when it starts, so concurrent attempts cannot all pass; success and cancel take it back', () => {
    const { throttle } = throttleAt();
    const starts = Array.from({ length: 200 }, () => throttle.begin('10.0.0.1', 'admin'));
    expect(starts.filter((s) => s.allowed)).toHaveLength(5);
    expect(starts.filter((s) => !s.allowed && s.retryAfter === 900)).toHaveLength(195);

    const { throttle: other } = throttleAt();
    const pending = Array.from({ length: 5 }, () => other.begin('10.0.0.1', 'admin'));
    expect(waitOf(other.begin('10.0.0.1', 'admin'))).toBe(900);
    const [first, second] = pending;
    if (first.allowed) first.attempt.cancel();
    expect(other.retryAfter('10.0.0.1', 'admin')).toBe(0);
    if (second.allowed) second.attempt.succeed();
    expect(other.retryAfter('10.0.0.1', 'admin')).toBe(0);
    // The pair count is cleared by the success; the other pending attempts settle without effect.
    for (const s of pending.slice(2)) if (s.allowed) s.attempt.fail();
    expect(other.retryAfter('10.0.0.1', 'admin')).toBe(0);
  });

  it('limits one address over all usernames, with waits that double, and leaves other addresses alone', () => {
    const { throttle, clock } = throttleAt();
    for (let i = 0; i < 20; i++) fail(throttle, '10.0.0.7', `user${i}`);
    expect(waitOf(throttle.begin('10.0.0.7', 'fresh-user'))).toBe(1);
    expect(throttle.retryAfter('10.0.0.8', 'fresh-user')).toBe(0);
    const waits: number[] = [];
    for (let i = 0; i < 10; i++) {
      const wait = throttle.retryAfter('10.0.0.7', `next${i}`);
      waits.push(wait);
      clock.now += wait * 1000;
      fail(throttle, '10.0.0.7', `next${i}`);
    }
    // Doubling, but never past the moment the count drops back under the budget: the
    // first 20 failures (at 0 s) leave the window at 900 s, when the 10th wait would end at 1023 s.
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 389]);
    expect(clock.now).toBe(900_000);
    expect(throttle.retryAfter('10.0.0.7', 'anyone')).toBe(0);
  });

  it('does not refill an address budget on a successful sign-in', () => {
    const { throttle, clock } = throttleAt();
    for (let i = 0; i < 20; i++) fail(throttle, '10.0.0.7', `user${i}`);
    clock.now += 1000;
    const ok = throttle.begin('10.0.0.7', 'real');
    expect(ok.allowed).toBe(true);
    if (ok.allowed) ok.attempt.succeed();
    fail(throttle, '10.0.0.7', 'user-after');
    expect(throttle.retryAfter('10.0.0.7', 'anyone')).toBe(2);
  });

  it('counts IPv6 clients per /64 for the address budget, IPv4-mapped ones as IPv4', () => {
    expect(addressBucket('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:0db8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
    expect(addressBucket('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(addressBucket('10.1.2.3')).toBe('10.1.2.3');
    const { throttle } = throttleAt();
    for (let i = 0; i < 20; i++) fail(throttle, `2001:db8:1:2::${i + 1}`, `user${i}`);
    expect(throttle.retryAfter('2001:db8:1:2:ffff::9', 'x')).toBe(1);
    expect(throttle.retryAfter('2001:db8:1:3::1', 'x')).toBe(0);
  });
});
