import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Observable, Subscriber, Subscription } from 'rxjs';
import { LOGGER_CONTEXT, TASKFLOW_OPTIONS } from '../constants';
import { TaskManager } from '../engine/task-manager.service';
import { TaskScheduler } from '../schedule/task-scheduler.service';
import { AdminTuning, TASKFLOW_ADMIN_TUNING } from '../options/admin-tuning';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { TaskData, snapshotTask } from '../task/task-record';
import { isTerminal } from '../task/task-status';
import { ChangeWindow } from './change-window';
import { FirstBatches } from './first-batches';
import { MetricsEvents } from './metrics-events';
import { NewestFrames } from './newest-frames';
import { ReplayBuffer } from './replay-buffer';
import { KEEP_ALIVE, SseFrame, batchFrame, namedFrame, taskFrame } from './sse-frame';
import type { StreamView } from './stream-view';
import type { ViewClient } from './view-client';
import { ViewStreams } from './view-streams';

export interface HubStats {
  /** Record changes received from the manager. */
  changes: number;
  /** Task events numbered (after coalescing). */
  events: number;
  /** Changes merged into a later change of the same task within a flush window. */
  coalesced: number;
  clients: number;
}

/**
 * The one SSE hub of an admin module: numbers task changes (this instance's, and
 * those of other instances that the change feed brings on a shared database), keeps the
 * replay buffer, coalesces bursts and fans every serialised frame out to all
 * clients, so that work is done once however many dashboards are open.
 *
 * - Changes of one task within `flushWindowMs` become one event with its latest state.
 * - Event ids start above the start time in microseconds, so an id from a
 *   previous run (or another instance started earlier) is never mistaken for one
 *   of this run: it is older than the buffer and the client gets the first batch.
 * - The last `replayBufferSize` events are kept for `Last-Event-ID`, each presented
 *   and serialised only once a client needs it (see ReplayBuffer).
 * - The first batch holds at most `streamFirstBatchSize` live tasks, oldest event
 *   first; when tasks were left out, a named `resync` event follows it,
 *   `{"latest_id", "sent", "omitted"}`, telling the client to read the rest through
 *   REST. The batch is built once per state and shared by the clients that
 *   connect while nothing changes.
 * - A `metrics` event at most every `metricsIntervalMs`, only after a change;
 *   a `: keep-alive` comment every `keepAliveMs`. Timers run only while clients are connected.
 * - A client that connects with a StreamView (a dashboard page) gets a view stream:
 *   the changes of that view only, and `resync` hints under bursts (see ViewClient);
 *   its first batch holds the live tasks of the view. It replays nothing: connecting
 *   with a Last-Event-ID other than the latest ends its first batch with `resync`.
 */
@Injectable()
export class TaskEventHub implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly events: ReplayBuffer;
  /** Tasks changed in this flush window; numbered once, at flush, in their latest state. */
  private readonly pending = new ChangeWindow();
  private readonly clients = new Set<Subscriber<SseFrame>>();
  private readonly subscriptions: Subscription[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private keepAliveTimer: NodeJS.Timeout | null = null;
  private readonly metrics: MetricsEvents;
  private closed = false;
  private readonly counters = { changes: 0, events: 0, coalesced: 0 };
  /** Live tasks' latest event ids and the frames of first batches. */
  private readonly batches: FirstBatches;
  private readonly views: ViewStreams;
  /** What the plain streams were last sent of each live task, so that a client behind skips older states. */
  private readonly newest = new NewestFrames();

  constructor(
    private readonly manager: TaskManager,
    @Inject(TASKFLOW_ADMIN_TUNING) private readonly tuning: AdminTuning,
    private readonly scheduler: TaskScheduler,
    @Inject(TASKFLOW_OPTIONS) private readonly options: Pick<ResolvedTaskOptions, 'streamFirstBatchSize'>,
  ) {
    this.batches = new FirstBatches(manager, options);
    this.events = new ReplayBuffer(Math.max(1, tuning.replayBufferSize), Date.now() * 1000, (id, state) => this.render(id, state));
    this.metrics = new MetricsEvents(
      () => this.manager.metrics(),
      tuning.metricsIntervalMs,
      () => !this.closed && this.clients.size > 0,
      (metrics) => this.broadcast(namedFrame('metrics', JSON.stringify(metrics), this.events.lastId)),
      this.logger,
    );
    const bounds = { burstEvents: tuning.viewBurstEvents, resyncMs: tuning.viewResyncMs, resyncMaxMs: tuning.viewResyncMaxMs };
    this.views = new ViewStreams(
      bounds,
      () => this.events.lastId,
      (id) => (this.events.has(id) ? this.events.frame(id) : null),
    );
  }

  onModuleInit(): void {
    // This instance's changes through a direct listener, not taskChanges$: three per task reach the hub, and an
    // RxJS Subject's next allocates per call (a closure, an iterator), ~900 B per task in all. The manager's
    // `stopping$` (below) ends the hub before the changes end.
    const unlisten = this.manager.onTaskChange((task) => this.onChange(task));
    this.subscriptions.push(
      new Subscription(unlisten),
      // Other instances' changes (a shared database) are events like this instance's own.
      this.manager.remoteChanges$.subscribe((task) => this.onChange(task)),
      this.manager.stopping$.subscribe(() => this.close()),
      // Schedule changes (a firing, a finished run) as a named `schedules` event with the full list.
      this.scheduler.schedules$.subscribe((list) => {
        if (!this.closed && this.clients.size > 0) this.broadcast(namedFrame('schedules', JSON.stringify(list), this.events.lastId));
      }),
    );
  }

  /** Streams must end before the HTTP server closes, or it would wait for them forever. */
  beforeApplicationShutdown(): void {
    this.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get stats(): HubStats {
    return { ...this.counters, clients: this.clients.size };
  }

  /**
   * A client's stream: the events after `lastEventId` when they are all still
   * buffered, else every pending and running task; then live events. With a `view`,
   * a view stream instead.
   */
  connect(lastEventId?: string, view?: StreamView): Observable<SseFrame> {
    return new Observable<SseFrame>((subscriber) => {
      if (this.closed) {
        subscriber.complete();
        return;
      }
      // Changes still inside the flush window are numbered now, so the first batch
      // and the replay see every change up to this instant.
      if (this.flushTimer) {
        clearTimeout(this.flushTimer);
        this.flush();
      }
      let first: SseFrame[];
      if (view) {
        const client = this.views.open(subscriber, view, (frame) => subscriber.next(frame));
        first = this.viewFirstBatch(client, lastEventId);
      } else {
        first = this.eventsAfter(lastEventId) ?? this.batches.plain(this.events.lastId);
      }
      if (first.length > 0) subscriber.next(batchFrame(first));
      this.clients.add(subscriber);
      this.startTimers();
      // Other instances' changes are read only while someone here watches.
      this.manager.followRemote(true);
      return () => {
        this.clients.delete(subscriber);
        this.views.close(subscriber);
        if (this.clients.size === 0) {
          this.stopTimers();
          this.manager.followRemote(false);
        }
      };
    });
  }

  /** Ends every stream; new ones complete at once. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.subscriptions) s.unsubscribe();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.pending.clear();
    this.batches.clear();
    this.newest.clear();
    this.views.closeAll();
    this.stopTimers();
    for (const client of [...this.clients]) client.complete();
    this.clients.clear();
  }

  private onChange(task: TaskData): void {
    if (this.closed) return;
    this.counters.changes++;
    this.pending.add(task);
    this.views.changed(task);
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), this.tuning.flushWindowMs);
      this.flushTimer.unref();
    }
  }

  private flush(): void {
    this.flushTimer = null;
    if (this.pending.size === 0) return;
    const received = this.pending.size;
    const tasks = this.pending.take();
    this.counters.coalesced += received - tasks.length;
    // View streams choose their own events; the others get every one.
    const plain = this.clients.size > this.views.size;
    const frames: SseFrame[] = [];
    for (const task of tasks) {
      const state = snapshotTask(task);
      const id = this.events.push(state);
      if (this.views.size > 0) this.views.numbered(id, state, this.batches.isLive(task.id));
      this.batches.numbered(task.id, id, isTerminal(task.status));
      this.counters.events++;
      const frame = plain ? this.events.frame(id) : null;
      if (frame) {
        frames.push(frame);
        this.newest.sent(task.id, frame, isTerminal(task.status));
      } else this.newest.forget(task.id);
    }
    this.batches.changed();
    // View streams first: their few frames (or one resync) then leave ahead of the plain streams' bulk at the turn's end.
    this.views.dispatch();
    // One buffer per flush, shared by every client: one write per client however large the burst.
    if (frames.length > 0) {
      const batch = batchFrame(frames);
      for (const client of this.clients) if (!this.views.has(client)) client.next(batch);
    }
    this.metrics.changed();
  }

  /** An event's frame, or null when its record cannot be serialised (the event is then never sent). */
  private render(id: number, state: TaskData): SseFrame | null {
    try {
      return taskFrame(id, state.id, JSON.stringify(this.manager.toRecord(state)));
    } catch (error) {
      this.logger.warn(`Task ${state.id} could not be serialised for the stream: ${String(error)}`);
      return null;
    }
  }

  /** The frames after `raw`, or null when it is absent, malformed, unknown or older than the buffer. */
  private eventsAfter(raw: string | undefined): SseFrame[] | null {
    if (raw === undefined || !/^\d{1,16}$/.test(raw.trim())) return null;
    return this.events.after(Number(raw.trim()));
  }

  /** The first batch of a view stream (see ViewStreams.firstBatch). */
  private viewFirstBatch(client: ViewClient, lastEventId: string | undefined): SseFrame[] {
    const lastId = this.events.lastId;
    const live = this.batches.live(lastId);
    const resumed = lastEventId !== undefined && lastEventId.trim() !== String(lastId);
    return this.views.firstBatch(client, live, { limit: this.options.streamFirstBatchSize, lastId, resumed }, (task) =>
      this.batches.liveFrame(task.record, task.id),
    );
  }

  private broadcast(frame: SseFrame): void {
    if (frame.key !== null) this.newest.sent(frame.key, frame, false);
    for (const client of this.clients) client.next(frame);
  }

  private startTimers(): void {
    if (this.keepAliveTimer || this.closed) return;
    this.keepAliveTimer = setInterval(() => this.broadcast(KEEP_ALIVE), this.tuning.keepAliveMs);
    this.keepAliveTimer.unref();
  }

  private stopTimers(): void {
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = null;
    this.metrics.stop();
  }
}
