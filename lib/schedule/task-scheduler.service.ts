import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Observable, Subject } from 'rxjs';
import { LOGGER_CONTEXT, TASKFLOW_OPTIONS } from '../constants';
import { RegisteredTask } from '../discovery/registered-task';
import { TaskRegistry } from '../discovery/task.registry';
import { TaskManager } from '../engine/task-manager.service';
import { TaskRuntime } from '../engine/task-runtime';
import { TaskStorage } from '../engine/task-storage';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { ScheduleInfo } from '../task/schedule-info';
import { TaskData } from '../task/task-record';
import { TaskStatus, isTerminal } from '../task/task-status';
import { ScheduleLeases } from './schedule-leases';
import { ScheduleDefinition, describeTrigger, periodSeconds } from './schedule-definition';
import { SlotClock } from './slot-clock';

/** The tag every scheduled record carries: the slot it was fired for (ISO UTC). */
export const SCHEDULE_SLOT_TAG = 'schedule_slot';

/** A slot lease outlives its slot by this long at least, so a late instance never fires it again. */
const SLOT_LEASE_MIN_SECONDS = 3_600;
/** Instances starting within min(period, this) of each other share one `runOnStartup` run. */
const STARTUP_LEASE_MAX_SECONDS = 60;

interface ScheduleEntry {
  readonly definition: ScheduleDefinition;
  registered: RegisteredTask | null;
  /** Its timers (null until started, or when the task is not registered). */
  clock: SlotClock | null;
  /** The last slot handled here: a slot is never handled twice by one instance. */
  lastSlot: number | null;
  lastTaskId: string | null;
  lastRun: number | null;
  lastStatus: TaskStatus | null;
  /** This instance holds the "previous run still going" lease (overlap: false, with a database). */
  runLeaseHeld: boolean;
}

/**
 * Fires @ScheduledTask methods on the slots of a SlotClock per schedule
 * (@nestjs/schedule timers kept in this package's private SchedulerRegistry).
 *
 * Each firing goes through TaskManager.submit as a `source: "scheduled"` record.
 * With a database, a slot fires on exactly one instance: the one that takes the
 * lease `schedule:<name>:<slot ISO>`. A lease call that fails is retried a few times
 * within the slot; if the database stays unreachable the slot is skipped (never
 * fired on every instance at once), logged once per outage, and the next slot is
 * tried as usual: the scheduler itself never stops.
 *
 * Unless `overlap: true`, a slot is skipped while the previous run is pending or
 * running, across instances too (a second lease, `schedule:<name>:run`, is held
 * while a run is live and renewed by heartbeat).
 */
@Injectable()
export class TaskScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly entries = new Map<string, ScheduleEntry>();
  private readonly changes = new Subject<ScheduleInfo[]>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly leases: ScheduleLeases;
  private running = false;
  private stopped = false;
  private heartbeat: NodeJS.Timeout | null = null;

  /**
   * The schedules as GET {path}/schedules lists them (this instance's view): the
   * current list on subscribe, then again whenever one is fired, finishes a run,
   * starts or stops. Completes at shutdown.
   */
  readonly schedules$: Observable<ScheduleInfo[]> = new Observable<ScheduleInfo[]>((subscriber) => {
    if (this.changes.closed || this.changes.isStopped) {
      subscriber.complete();
      return undefined;
    }
    subscriber.next(this.snapshot());
    return this.changes.subscribe(subscriber);
  });

  constructor(
    @Inject(TASKFLOW_OPTIONS) private readonly options: ResolvedTaskOptions,
    private readonly registry: TaskRegistry,
    private readonly manager: TaskManager,
    private readonly runtime: TaskRuntime,
    private readonly storage: TaskStorage,
    private readonly timers: SchedulerRegistry,
  ) {
    this.leases = new ScheduleLeases(storage, this.logger, () => this.running);
  }

  /** @internal Called by the explorer at module init, once per @ScheduledTask. */
  add(definition: ScheduleDefinition): void {
    this.entries.set(definition.name, {
      definition,
      registered: null,
      clock: null,
      lastSlot: null,
      lastTaskId: null,
      lastRun: null,
      lastStatus: null,
      runLeaseHeld: false,
    });
  }

  /**
   * Starts the timers once TaskLifecycle has finished startup (database open,
   * requeue done, observers started): Nest runs the bootstrap hooks of one module
   * concurrently, so this waits for the runtime to say so.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (this.entries.size === 0) return;
    await this.runtime.started;
    if (this.stopped) return;
    this.running = true;
    for (const entry of this.entries.values()) this.start(entry);
    if ([...this.entries.values()].some((e) => !e.definition.overlap)) {
      this.heartbeat = setInterval(() => this.renewRunLeases(), Math.max(1000, (this.options.instanceLeaseSeconds * 1000) / 3));
      this.heartbeat.unref();
      this.timers.addInterval('taskflow:schedules:heartbeat', this.heartbeat);
    }
    this.emit();
  }

  /** Stops every timer, then lets a firing in progress (a lease call) finish before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    for (const entry of this.entries.values()) entry.clock?.stop();
    if (this.heartbeat) this.timers.deleteInterval('taskflow:schedules:heartbeat');
    this.heartbeat = null;
    this.leases.wakeAll();
    await Promise.allSettled([...this.inFlight]);
    this.emit();
    this.changes.complete();
  }

  /** This instance's view of every schedule, by name. */
  snapshot(): ScheduleInfo[] {
    return [...this.entries.values()].map((entry) => this.info(entry)).sort((a, b) => a.func_name.localeCompare(b.func_name));
  }

  /**
   * Every schedule with its next run and its last run. With a database, the last
   * run may have been fired by another instance: the newest scheduled record of
   * each function is looked up there.
   */
  async list(): Promise<ScheduleInfo[]> {
    const infos = this.snapshot();
    // Only a persistent backend is shared with other instances that may have fired them.
    if (!this.storage.persistent) return infos;
    await Promise.all(
      infos.map(async (info) => {
        try {
          const page = await this.storage.list({ funcName: info.func_name, limit: 50 });
          const latest = page.items.find((t) => t.source === 'scheduled');
          if (!latest) return;
          const own = info.last_task_id ? this.runtime.live(info.last_task_id) : undefined;
          const newest: TaskData = own && own.createdAt >= latest.createdAt ? own : (this.runtime.live(latest.id) ?? latest);
          info.last_run = new Date(newest.createdAt).toISOString();
          info.last_status = newest.status;
          info.last_task_id = newest.id;
        } catch {
          // The local view stands.
        }
      }),
    );
    return infos;
  }

  private info(entry: ScheduleEntry): ScheduleInfo {
    const live = entry.lastTaskId ? this.runtime.live(entry.lastTaskId) : undefined;
    const nextRun = entry.clock?.nextRun ?? null;
    return {
      func_name: entry.definition.name,
      trigger: describeTrigger(entry.definition.trigger),
      next_run: nextRun === null ? null : new Date(nextRun).toISOString(),
      last_run: entry.lastRun === null ? null : new Date(entry.lastRun).toISOString(),
      last_status: live?.status ?? entry.lastStatus,
      last_task_id: entry.lastTaskId,
    };
  }

  private start(entry: ScheduleEntry): void {
    entry.registered = this.registry.find(entry.definition.name) ?? null;
    if (!entry.registered) {
      this.logger.error(`Schedule of ${entry.definition.location} not started: "${entry.definition.name}" is not a registered task`);
      return;
    }
    const { trigger } = entry.definition;
    const tick = `taskflow:schedule:${entry.definition.name}`;
    entry.clock = new SlotClock(trigger, this.timers, { tick, align: `${tick}:align` }, (slot) => this.fireSlot(entry, slot));
    if (entry.definition.runOnStartup) {
      const ttl = Math.min(STARTUP_LEASE_MAX_SECONDS, periodSeconds(trigger, Date.now()));
      this.track(this.fire(entry, `schedule:${entry.definition.name}:startup`, ttl, Date.now()));
    }
  }

  private fireSlot(entry: ScheduleEntry, slot: number): void {
    if (entry.lastSlot !== null && slot <= entry.lastSlot) return;
    entry.lastSlot = slot;
    const ttl = Math.max(SLOT_LEASE_MIN_SECONDS, 2 * periodSeconds(entry.definition.trigger, slot));
    this.track(this.fire(entry, `schedule:${entry.definition.name}:${new Date(slot).toISOString()}`, ttl, slot));
  }

  /** One firing: overlap check, leases (with a database), then a scheduled record. Never throws. */
  private async fire(entry: ScheduleEntry, leaseName: string, leaseSeconds: number, slot: number): Promise<void> {
    const { definition } = entry;
    if (!definition.overlap && this.previousRunLive(entry)) {
      this.logger.debug?.(`Skipped ${definition.name} at ${new Date(slot).toISOString()}: its previous run is still going`);
      this.emit();
      return;
    }
    let runLease = false;
    const periodMs = periodSeconds(definition.trigger, Date.now()) * 1000;
    if (!(await this.leases.take(leaseName, leaseSeconds, periodMs))) return;
    // Checked once the slot is this instance's, so one instance logs the skip, not each.
    if (this.runtime.gates.isPaused(definition.name)) {
      this.logger.log(`Skipped ${definition.name} at ${new Date(slot).toISOString()}: the function is paused`);
      this.emit();
      return;
    }
    if (!definition.overlap) {
      if (!(await this.leases.take(this.runLeaseName(entry), this.options.instanceLeaseSeconds, periodMs))) return;
      runLease = true;
    }
    // Another firing of this schedule here may have enqueued while we waited for the database.
    // (The run lease is per instance: give it back only when no run of ours is live.)
    if (!this.running || (!definition.overlap && this.previousRunLive(entry))) {
      if (runLease && !this.previousRunLive(entry)) this.releaseRunLease(entry);
      return;
    }
    let id: string;
    try {
      id = this.manager.submit(entry.registered!, [], { eager: true, tags: { [SCHEDULE_SLOT_TAG]: new Date(slot).toISOString() } }, 'scheduled');
    } catch (error) {
      if (this.running) this.logger.error(`Could not fire ${definition.name}: ${String(error)}`);
      if (runLease && !this.previousRunLive(entry)) this.releaseRunLease(entry);
      return;
    }
    entry.lastTaskId = id;
    entry.lastRun = this.runtime.live(id)?.createdAt ?? Date.now();
    entry.lastStatus = 'pending';
    entry.runLeaseHeld = runLease;
    this.emit();
    this.manager.waitFor(id).then(
      (record) => {
        if (entry.lastTaskId === id) {
          entry.lastStatus = record.status;
          if (entry.runLeaseHeld) this.releaseRunLease(entry);
        }
        if (!this.stopped) this.emit();
      },
      () => undefined,
    );
  }

  private previousRunLive(entry: ScheduleEntry): boolean {
    const last = entry.lastTaskId ? this.runtime.live(entry.lastTaskId) : undefined;
    return !!last && !isTerminal(last.status);
  }

  private runLeaseName(entry: ScheduleEntry): string {
    return `schedule:${entry.definition.name}:run`;
  }

  /** Gives the "run is live" lease back. */
  private releaseRunLease(entry: ScheduleEntry): void {
    entry.runLeaseHeld = false;
    this.leases.release(this.runLeaseName(entry));
  }

  /** Keeps the "run is live" leases of this instance's live runs from expiring. */
  private renewRunLeases(): void {
    for (const entry of this.entries.values()) {
      if (!entry.runLeaseHeld) continue;
      if (!this.previousRunLive(entry)) this.releaseRunLease(entry);
      else this.leases.renew(this.runLeaseName(entry), this.options.instanceLeaseSeconds);
    }
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error) => this.logger.error(`Scheduler error: ${String(error)}`)).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private emit(): void {
    if (this.changes.observed && !this.changes.closed) this.changes.next(this.snapshot());
  }
}
