import type { TaskManager } from '../engine/task-manager.service';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import type { TaskRecord } from '../task/task-record';
import { SseFrame, namedFrame, taskFrame } from './sse-frame';
import type { LiveTask } from './view-streams';

/**
 * What the hub knows of the live tasks for the first batch of a new client: the id of
 * each one's latest event, the frame it had in a batch until its next event, and the
 * plain streams' batch as of the latest event. Kept apart from the hub's numbering and
 * fan-out, which only tell it when an event was numbered (`numbered`) and a flush ended
 * (`changed`).
 */
export class FirstBatches {
  /** Id of the latest event of each pending or running task, for the ids of the first batch. */
  private readonly liveIds = new Map<string, number>();
  /** The first batch as of event `lastId`, while no event came after it. */
  private firstBatchCache: { lastId: number; frames: SseFrame[] } | null = null;
  /**
   * The frame each live task had in a first batch, until its next event: batches
   * built after a change share the frames of the tasks that did not change, so a
   * client holding an old batch holds little of its own.
   */
  private readonly batchFrames = new Map<string, { id: number; frame: SseFrame }>();

  constructor(
    private readonly manager: Pick<TaskManager, 'liveTasks' | 'remoteLiveTasks'>,
    private readonly options: Pick<ResolvedTaskOptions, 'streamFirstBatchSize'>,
  ) {}

  /** True when the task was live as of its previous event. */
  isLive(taskId: string): boolean {
    return this.liveIds.has(taskId);
  }

  /** Event `id` was numbered for the task: its batch frame is stale, and it stays live unless `terminal`. */
  numbered(taskId: string, id: number, terminal: boolean): void {
    if (terminal) this.liveIds.delete(taskId);
    else this.liveIds.set(taskId, id);
    this.batchFrames.delete(taskId);
  }

  /** A flush numbered events: the cached batch is out of date. */
  changed(): void {
    this.firstBatchCache = null;
  }

  /** Drops the batches held for new clients when the hub closes: it serves none after. */
  clear(): void {
    this.firstBatchCache = null;
    this.batchFrames.clear();
  }

  /**
   * The pending and running tasks (this instance's and those other instances were
   * last seen holding), in the order of the events that produced their
   * state, each carrying that event's id: the batch is a replay of the latest event
   * of each live task. A task the hub never saw carries the id current when it
   * is first listed, and keeps it until it changes. Past `streamFirstBatchSize`
   * tasks, the oldest are sent and a `resync` event follows.
   */
  plain(lastId: number): SseFrame[] {
    if (this.firstBatchCache?.lastId === lastId) return this.firstBatchCache.frames;
    const live = this.live(lastId);
    live.sort((a, b) => a.id - b.id);
    const limit = this.options.streamFirstBatchSize;
    const frames: SseFrame[] = [];
    for (const { record, id } of live.slice(0, limit)) {
      const frame = this.liveFrame(record, id);
      if (frame) frames.push(frame);
    }
    if (live.length > limit) {
      const hint = { latest_id: lastId, sent: frames.length, omitted: live.length - limit };
      frames.push(namedFrame('resync', JSON.stringify(hint), lastId));
    }
    this.firstBatchCache = { lastId, frames };
    return frames;
  }

  /** The live tasks, unordered, each with the id of its latest event (`lastId` for one the hub never saw). */
  live(lastId: number): LiveTask[] {
    const records = [...this.manager.liveTasks(), ...this.manager.remoteLiveTasks()];
    return records.map((record) => ({ record, id: this.liveIds.get(record.task_id) ?? lastId }));
  }

  /** The frame of a live task as of event `id`, shared by the batches built until its next event; null when unserialisable. */
  liveFrame(record: TaskRecord, id: number): SseFrame | null {
    const built = this.batchFrames.get(record.task_id);
    if (built?.id === id) return built.frame;
    try {
      const frame = taskFrame(id, record.task_id, JSON.stringify(record));
      this.liveIds.set(record.task_id, id);
      this.batchFrames.set(record.task_id, { id, frame });
      return frame;
    } catch {
      // Unserialisable arguments: the task shows up with its next change.
      return null;
    }
  }
}
