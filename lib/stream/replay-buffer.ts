import { TaskData } from '../task/task-record';
import { SseFrame } from './sse-frame';

/**
 * The last `capacity` task events, for `Last-Event-ID` replay.
 *
 * Most events are never read back, and while no client is connected nobody reads
 * them at all: presenting and serialising each one at once cost the request that
 * enqueued the task a share of its throughput. So an event holds the task state it
 * carries and becomes a frame only when a live client or a replay first needs it;
 * the frame is kept from then on and the state let go.
 *
 * Ids are consecutive, so an event's slot follows from its id and is not stored.
 */
export class ReplayBuffer {
  /** State of each event whose frame is not built yet. */
  private readonly states: (TaskData | null)[];
  /** Frame of each event, once built. Both null: the record could not be serialised. */
  private readonly frames: (SseFrame | null)[];
  /** Slot of the oldest event. */
  private start = 0;
  private count = 0;

  /**
   * @param newest the id the next event comes after
   * @param render builds the frame of an event; null when its record cannot be sent
   */
  constructor(
    capacity: number,
    private newest: number,
    private readonly render: (id: number, state: TaskData) => SseFrame | null,
  ) {
    this.states = new Array<TaskData | null>(capacity).fill(null);
    this.frames = new Array<SseFrame | null>(capacity).fill(null);
  }

  /** Id of the newest event. */
  get lastId(): number {
    return this.newest;
  }

  /** Numbers the next event, evicting the oldest when full. `state` must never change afterwards. */
  push(state: TaskData): number {
    const size = this.states.length;
    let slot = this.start;
    if (this.count < size) {
      slot = (this.start + this.count) % size;
      this.count++;
    } else {
      this.start = (this.start + 1) % size;
    }
    this.states[slot] = state;
    this.frames[slot] = null;
    return ++this.newest;
  }

  /** Whether event `id` is still buffered. */
  has(id: number): boolean {
    return id <= this.newest && id > this.newest - this.count;
  }

  /** The frame of buffered event `id`, built on first use; null when it cannot be sent. */
  frame(id: number): SseFrame | null {
    const slot = (this.start + id - (this.newest - this.count + 1)) % this.states.length;
    const built = this.frames[slot];
    if (built) return built;
    const state = this.states[slot];
    if (!state) return null;
    const frame = this.render(id, state);
    this.frames[slot] = frame;
    this.states[slot] = null;
    return frame;
  }

  /** The frames of the events after `id`, or null unless `id` is buffered or the one just before the oldest. */
  after(id: number): SseFrame[] | null {
    const oldest = this.newest - this.count + 1;
    if (id > this.newest || id < oldest - 1) return null;
    const frames: SseFrame[] = [];
    for (let next = id + 1; next <= this.newest; next++) {
      const frame = this.frame(next);
      if (frame) frames.push(frame);
    }
    return frames;
  }
}
