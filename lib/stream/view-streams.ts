import type { TaskData, TaskRecord } from '../task/task-record';
import { isTerminal } from '../task/task-status';
import { SseFrame, namedFrame } from './sse-frame';
import { ANY_STATUS, StreamView, ViewMatcher, recordFields, statusBit } from './stream-view';
import { ViewBounds, ViewClient, ViewEvent } from './view-client';

/** A live task as the hub lists it for a first batch: its record and the id of its latest event. */
export interface LiveTask {
  record: TaskRecord;
  id: number;
}

/**
 * The hub's view streams, and what they need to know of each task: the statuses it
 * held since its previous event (a task leaving a status filter is part of the view).
 * That is tracked only while a view stream is open, and forgotten when the last one
 * closes, so that the hub costs nothing more while none is.
 */
export class ViewStreams {
  private readonly clients = new Map<object, ViewClient>();
  /** Status of each live task at its latest event, as a bit. */
  private readonly held = new Map<string, number>();
  /** Statuses each task had in the current flush window. */
  private readonly window = new Map<string, number>();
  private events: ViewEvent[] = [];

  constructor(
    private readonly bounds: ViewBounds,
    private readonly latestId: () => number,
    private readonly frameOf: (id: number) => SseFrame | null,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  open(key: object, view: StreamView, send: (frame: SseFrame) => void): ViewClient {
    const client = new ViewClient(new ViewMatcher(view), send, this.bounds, this.latestId, this.frameOf);
    this.clients.set(key, client);
    return client;
  }

  has(key: object): boolean {
    return this.clients.has(key);
  }

  close(key: object): void {
    this.clients.get(key)?.close();
    this.clients.delete(key);
    if (this.clients.size === 0) this.forget();
  }

  closeAll(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
    this.forget();
  }

  /**
   * The first batch of a view stream: its live tasks (at most `limit`, oldest event
   * first), each followed from then on; then `resync` when some were left out, or when
   * the client came back with a Last-Event-ID other than the latest (`resumed`): a view
   * stream replays nothing, so the client reads its view again.
   */
  firstBatch(
    client: ViewClient,
    live: readonly LiveTask[],
    at: { limit: number; lastId: number; resumed: boolean },
    frameOf: (task: LiveTask) => SseFrame | null,
  ): SseFrame[] {
    const mine = live.filter((task) => client.matcher.matches(recordFields(task.record), 0)).sort((a, b) => a.id - b.id);
    const frames: SseFrame[] = [];
    for (const task of mine.slice(0, at.limit)) {
      const frame = frameOf(task);
      if (frame) frames.push(frame);
      client.follow(task.record.task_id);
    }
    if (mine.length > at.limit || at.resumed) {
      const hint = { latest_id: at.lastId, sent: frames.length, omitted: Math.max(0, mine.length - at.limit) };
      frames.push(namedFrame('resync', JSON.stringify(hint), at.lastId));
    }
    return frames;
  }

  /** A change received within the flush window. */
  changed(task: TaskData): void {
    if (this.clients.size === 0) return;
    this.window.set(task.id, (this.window.get(task.id) ?? 0) | statusBit(task.status));
  }

  /** An event numbered at flush; `seen`: the hub numbered an earlier event of this task. */
  numbered(id: number, task: TaskData, seen: boolean): void {
    if (this.clients.size === 0) return;
    const before = seen ? (this.held.get(task.id) ?? ANY_STATUS) : 0;
    this.events.push({ id, task, held: before | (this.window.get(task.id) ?? 0) });
    if (isTerminal(task.status)) this.held.delete(task.id);
    else this.held.set(task.id, statusBit(task.status));
  }

  /** Hands the flush's events to every view stream. */
  dispatch(): void {
    this.window.clear();
    if (this.events.length === 0) return;
    const events = this.events;
    this.events = [];
    for (const client of this.clients.values()) client.take(events);
  }

  private forget(): void {
    this.held.clear();
    this.window.clear();
    this.events = [];
  }
}
