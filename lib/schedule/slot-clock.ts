import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob, cronPackage } from './cron';
import { ScheduleTrigger, intervalMs, nextSlot } from './schedule-definition';

/** A tick up to this much before a slot boundary belongs to that slot (timers may fire a hair early). */
const EARLY_MS = 50;

/** Registry names of one schedule's timers. */
export interface SlotTimerNames {
  /** The CronJob (cron) or the interval (`every`). */
  readonly tick: string;
  /** The timeout that waits for the next `every` boundary before the interval starts. */
  readonly align: string;
}

/**
 * The timers of one schedule, kept in the given SchedulerRegistry: a CronJob of the
 * `cron` package for cron triggers, an interval aligned to epoch multiples of the
 * period (with drift correction) for `every` triggers. Each tick is reported as the
 * slot (epoch ms) it stands for, so every instance names a slot the same way.
 *
 * Ticking starts on construction and ends with stop().
 */
export class SlotClock {
  /** The next slot, or null once stopped. */
  nextRun: number | null = null;
  private cronJob: CronJob | null = null;
  /** The slot the cron job will fire next (what its tick stands for). */
  private expectedSlot: number | null = null;
  private stopped = false;

  constructor(
    private readonly trigger: ScheduleTrigger,
    private readonly timers: SchedulerRegistry,
    private readonly names: SlotTimerNames,
    private readonly onSlot: (slot: number) => void,
  ) {
    if (trigger.kind === 'cron') {
      const { CronJob } = cronPackage();
      const job = new CronJob(trigger.expression, () => this.cronTick(), null, false, trigger.timezone);
      this.cronJob = job;
      this.expectedSlot = job.nextDate().toMillis();
      this.nextRun = this.expectedSlot;
      this.timers.addCronJob(names.tick, job);
      job.start();
    } else {
      const now = Date.now();
      this.nextRun = nextSlot(trigger, now);
      this.align(this.nextRun - now);
    }
  }

  /** Removes the timers from the registry; no slot is reported after this. */
  stop(): void {
    this.stopped = true;
    const { tick, align } = this.names;
    if (this.timers.doesExist('cron', tick)) this.timers.deleteCronJob(tick);
    if (this.timers.doesExist('interval', tick)) this.timers.deleteInterval(tick);
    if (this.timers.doesExist('timeout', align)) this.timers.deleteTimeout(align);
    this.cronJob = null;
    this.nextRun = null;
  }

  /** Waits for the next interval boundary, then ticks on an interval from there. */
  private align(delay: number): void {
    const timeout = setTimeout(
      () => {
        this.timers.deleteTimeout(this.names.align);
        if (this.stopped) return;
        this.timers.addInterval(
          this.names.tick,
          setInterval(() => this.intervalTick(), this.everyMs()),
        );
        this.intervalTick();
      },
      Math.max(0, delay),
    );
    this.timers.addTimeout(this.names.align, timeout);
  }

  private intervalTick(): void {
    if (this.stopped) return;
    const every = this.everyMs();
    const now = Date.now();
    const slot = Math.floor((now + EARLY_MS) / every) * every;
    this.nextRun = slot + every;
    // setInterval drifts a little each tick; past a tenth of the period (at most 250 ms), start again on a boundary.
    if (now - slot > Math.min(250, every / 10) && this.timers.doesExist('interval', this.names.tick)) {
      this.timers.deleteInterval(this.names.tick);
      this.align(this.nextRun - now);
    }
    this.onSlot(slot);
  }

  private cronTick(): void {
    if (this.stopped || !this.cronJob) return;
    const now = Date.now();
    // The tick stands for the slot computed before it, even when it comes late
    // (a busy event loop), so every instance uses the same lease name for it.
    let slot = this.expectedSlot ?? now;
    if (slot > now + 60_000) slot = Math.floor(now / 60_000) * 60_000; // the clock stepped back
    this.expectedSlot = this.cronJob.nextDate().toMillis();
    this.nextRun = this.expectedSlot;
    this.onSlot(slot);
  }

  private everyMs(): number {
    return intervalMs((this.trigger as { seconds: number }).seconds);
  }
}
