import type { TaskData } from '../task/task-record';
import { isTerminal } from '../task/task-status';
import { SseFrame, batchFrame, namedFrame } from './sse-frame';
import { ViewMatcher } from './stream-view';

/** A task event of one flush, as the view streams see it. */
export interface ViewEvent {
  readonly id: number;
  readonly task: TaskData;
  /** Statuses the task held since its previous event (see ViewMatcher.matches). */
  readonly held: number;
}

export interface ViewBounds {
  /** Events of one flush a view stream is sent one by one; past that it gets a `resync` instead. */
  burstEvents: number;
  /** Least gap after a `resync` before the next: changes of the view meanwhile are withheld until it. */
  resyncMs: number;
  /** Largest gap: past ten resyncs in a row (a burst that lasts), the gap doubles up to this. */
  resyncMaxMs: number;
}

/** Tasks a view stream keeps following after they leave its filters; the oldest are let go first. */
const MAX_FOLLOWED = 1000;

/**
 * One view stream's choice of events. Sent: the changes of the view (ViewMatcher), and
 * every later change of a task it was sent while that task is live, so that a row that
 * left the filters keeps its true state on the page until the page reloads.
 *
 * Under a burst (more than `burstEvents` such events in one flush) the client gets one
 * named `resync` event, `{"latest_id", "sent": 0, "omitted": <events withheld>}`, after
 * which it reads the view through REST; then nothing for a gap of `resyncMs`. At the end
 * of the gap, what was withheld meanwhile follows: one by one when it is no more than
 * `burstEvents` tasks' changes (the burst is over), else as one more `resync`. So a page
 * under a burst refetches a few times a second at most instead of applying thousands of
 * events, and its view is never older than the gap.
 */
export class ViewClient {
  private readonly followed = new Set<string>();
  private quiet: NodeJS.Timeout | null = null;
  /** Events of the view withheld since the last `resync`. */
  private withheld = 0;
  /** The latest of them per task, while they are few enough to send one by one. */
  private held: Map<string, ViewEvent> | null = new Map();
  /** Resyncs in a row, each sent at the end of the previous one's gap. */
  private streak = 0;
  private closed = false;

  constructor(
    readonly matcher: ViewMatcher,
    private readonly send: (frame: SseFrame) => void,
    private readonly bounds: ViewBounds,
    private readonly latestId: () => number,
    private readonly frameOf: (id: number) => SseFrame | null,
  ) {}

  /** A task sent in the first batch: followed like one sent live. */
  follow(id: string): void {
    this.followed.delete(id);
    this.followed.add(id);
    if (this.followed.size > MAX_FOLLOWED) this.followed.delete(this.followed.values().next().value!);
  }

  /** One flush's events (in id order): those of the view, or a `resync` when there are too many. */
  take(events: readonly ViewEvent[]): void {
    if (this.closed) return;
    // A view without filters takes every event: no need to look at each.
    const chosen = this.matcher.everything ? events : events.filter((e) => this.followed.has(e.task.id) || this.matcher.matches(e.task, e.held));
    if (chosen.length === 0) return;
    if (this.quiet === null && chosen.length <= this.bounds.burstEvents) return this.deliver(chosen);
    this.withhold(chosen);
    if (this.quiet === null) this.resync();
  }

  close(): void {
    this.closed = true;
    if (this.quiet) clearTimeout(this.quiet);
    this.quiet = null;
  }

  private deliver(events: Iterable<ViewEvent>): void {
    const frames: SseFrame[] = [];
    for (const event of events) {
      const frame = this.frameOf(event.id);
      if (frame) frames.push(frame);
      if (isTerminal(event.task.status)) this.followed.delete(event.task.id);
      else this.follow(event.task.id);
    }
    if (frames.length > 0) this.send(batchFrame(frames));
  }

  private withhold(events: readonly ViewEvent[]): void {
    this.withheld += events.length;
    for (const event of events) {
      // A finished task is let go at once; a live one is followed only if it is sent.
      if (this.followed.size > 0 && isTerminal(event.task.status)) this.followed.delete(event.task.id);
      if (this.held === null) continue;
      this.held.delete(event.task.id);
      this.held.set(event.task.id, event);
      if (this.held.size > this.bounds.burstEvents) this.held = null;
    }
  }

  private resync(): void {
    const latest = this.latestId();
    this.send(namedFrame('resync', JSON.stringify({ latest_id: latest, sent: 0, omitted: this.withheld }), latest));
    this.withheld = 0;
    this.held = new Map();
    this.streak++;
    const gap = this.streak <= 10 ? this.bounds.resyncMs : Math.min(this.bounds.resyncMaxMs, this.bounds.resyncMs * 2 ** (this.streak - 10));
    this.quiet = setTimeout(() => this.endQuiet(), gap);
    this.quiet.unref();
  }

  private endQuiet(): void {
    this.quiet = null;
    if (this.closed) return;
    const held = this.held;
    // Still a burst, or an event already left the replay buffer: one more resync.
    if (held === null || [...held.values()].some((event) => this.frameOf(event.id) === null)) return this.resync();
    this.withheld = 0;
    this.streak = 0;
    this.deliver(held.values());
  }
}
