import { Logger } from '@nestjs/common';
import { TaskStorage } from '../engine/task-storage';

/** Waits before the 2nd, 3rd and 4th try of a lease whose call failed. */
const LEASE_RETRY_DELAYS_MS = [1_000, 5_000, 15_000];
/** Longest one lease call may take before it counts as failed. */
const LEASE_CALL_TIMEOUT_MS = 10_000;

/**
 * The scheduler's database leases: a slot's lease (one firing across instances)
 * and a schedule's "run is live" lease (overlap across instances). A failing
 * call is retried within half the period, then the slot is skipped, never fired
 * on every instance; the failure and the recovery are logged once each.
 */
export class ScheduleLeases {
  private failing = false;
  private readonly wakers = new Set<() => void>();

  constructor(
    private readonly storage: TaskStorage,
    private readonly logger: Logger,
    private readonly isRunning: () => boolean,
  ) {}

  /** True when this instance holds `name` (the memory backend's leases are this instance's alone). */
  async take(name: string, ttlSeconds: number, periodMs: number): Promise<boolean> {
    const deadline = Date.now() + periodMs / 2;
    const callTimeout = Math.max(1_000, Math.min(LEASE_CALL_TIMEOUT_MS, periodMs / 2));
    for (let attempt = 0; ; attempt++) {
      try {
        const won = await bounded(this.storage.tryAcquireLease(name, ttlSeconds), callTimeout);
        if (this.failing) {
          this.failing = false;
          this.logger.log('Schedule leases work again');
        }
        return won;
      } catch (error) {
        const wait = LEASE_RETRY_DELAYS_MS[attempt];
        const retry = wait !== undefined && Date.now() + wait < deadline && this.isRunning();
        if (!this.failing) {
          this.failing = true;
          this.logger.warn(
            `Schedule lease "${name}" failed (${String(error)}). A slot whose lease cannot be taken is skipped, never fired on ` +
              'every instance; further failures are logged at debug level until leases work again.',
          );
        } else {
          this.logger.debug?.(`Schedule lease "${name}" failed again${retry ? '' : '; slot skipped'}: ${String(error)}`);
        }
        if (!retry) return false;
        await this.sleep(wait);
        if (!this.isRunning()) return false;
      }
    }
  }

  /** Renews a lease this instance holds; a failure is left to its expiry. */
  renew(name: string, ttlSeconds: number): void {
    this.storage.tryAcquireLease(name, ttlSeconds).catch((error) => {
      this.logger.debug?.(`Could not renew ${name}: ${String(error)}`);
    });
  }

  /** Gives a lease back (a ttl of 0 ends it now). */
  release(name: string): void {
    this.storage.tryAcquireLease(name, 0).catch((error) => {
      this.logger.debug?.(`Could not release ${name} (it expires on its own): ${String(error)}`);
    });
  }

  /** Cuts every retry wait short (shutdown). */
  wakeAll(): void {
    for (const wake of [...this.wakers]) wake();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wakers.add(done);
    });
  }
}

function bounded<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}
