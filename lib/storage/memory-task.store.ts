import { TaskData } from '../task/task-record';
import { isTerminal } from '../task/task-status';

/**
 * A record held, and whether it counts as finished. Entries form a list in the order they
 * were added (what `values()` walks, as a Map's insertion order would); `add` returns the
 * entry, and a caller that hands it back to `finish` spares the lookup by id.
 */
export class StoreEntry {
  finished: boolean;
  /** False once deleted, replaced or evicted: its slot in the finished FIFO is then skipped. */
  held = true;
  prev: StoreEntry | null = null;
  /**
   * Kept when the entry leaves the list while a walk is under way, so a walk standing on it
   * still reaches the entries after it; cleared otherwise, so that whoever still holds a
   * removed entry does not hold every entry added after it.
   */
  next: StoreEntry | null = null;
  /**
   * What the engine runs the record with while it runs (its execution; null otherwise), found with
   * the record rather than in a map of its own. Carried over when a newer copy replaces the record.
   */
  execution: object | null = null;

  constructor(readonly task: TaskData) {
    this.finished = isTerminal(task.status);
  }
}

/** Index changes unread by any lookup, beyond the records held, after which the index is dropped. */
const INDEX_SLACK = 1024;

/**
 * Live tasks and the most recent finished ones. Pending and running tasks are
 * never evicted; past `maxFinished` finished records the oldest-finished goes first.
 *
 * The index by id is built on the first lookup, kept up to date while lookups come, and
 * dropped once more changes than there are records went by without one: a burst of tasks
 * nobody looks up by id (addTask, run, finish, evict) hashes no id at all, and rebuilding
 * the index costs at most what keeping it would have.
 */
export class MemoryTaskStore {
  private first: StoreEntry | null = null;
  private last: StoreEntry | null = null;
  private count = 0;
  private index: Map<string, StoreEntry> | null = null;
  private unreadChanges = 0;
  /** Finished records in the order they finished. A FIFO with a moving head: a Map used as
   * one slows down as deleted head slots pile up until V8 rehashes it. */
  private finishedOrder: (StoreEntry | undefined)[] = [];
  private head = 0;
  private finishedCount = 0;
  private unfinishedCount = 0;
  private readonly evictionListeners: ((task: TaskData) => void)[] = [];
  /** Walks of values() under way (see StoreEntry.next). */
  private walks = 0;

  constructor(private readonly maxFinished: number) {}

  /** Calls `listener` with each finished record pushed out by newer ones. */
  onEvicted(listener: (task: TaskData) => void): void {
    this.evictionListeners.push(listener);
  }

  get size(): number {
    return this.count;
  }

  /** Pending plus running. */
  get unfinished(): number {
    return this.unfinishedCount;
  }

  get(id: string): TaskData | undefined {
    return this.lookup().get(id)?.task;
  }

  *values(): IterableIterator<TaskData> {
    this.walks++;
    try {
      for (let entry = this.first; entry; entry = entry.next) if (entry.held) yield entry.task;
    } finally {
      this.walks--;
    }
  }

  /** Stores `task`, replacing a record of the same id. */
  add(task: TaskData): StoreEntry {
    const old = this.lookup().get(task.id);
    if (old) this.remove(old);
    const entry = this.addNew(task);
    if (old) entry.execution = old.execution;
    return entry;
  }

  /**
   * The entry held under `id`. `hint`: an entry the caller kept for it (what `add` returned);
   * while it is still held it is the one, and no lookup by id is made.
   */
  entryFor(id: string, hint?: StoreEntry): StoreEntry | undefined {
    return hint?.held && hint.task.id === id ? hint : this.lookup().get(id);
  }

  /** Stores a task made just now, whose id no record has (a new task's): no lookup by id. */
  addNew(task: TaskData): StoreEntry {
    if (this.index?.has(task.id)) return this.add(task);
    const entry = new StoreEntry(task);
    entry.prev = this.last;
    if (this.last) this.last.next = entry;
    else this.first = entry;
    this.last = entry;
    this.count++;
    if (this.index) this.indexed(task.id, entry);
    if (entry.finished) this.markFinished(entry);
    else this.unfinishedCount++;
    return entry;
  }

  /**
   * Call after a task moved to a terminal status. `entry`: what `add` returned for it, when
   * the caller kept it (it counts only while it still holds this very record).
   */
  finish(task: TaskData, entry?: StoreEntry): void {
    // What is stored under its id (a newer copy, possibly) is what counts as finished.
    const held = entry?.held && entry.task === task ? entry : this.lookup().get(task.id);
    if (!held || held.finished) return;
    this.unfinishedCount--;
    held.finished = true;
    this.markFinished(held);
  }

  delete(id: string): boolean {
    const held = this.lookup().get(id);
    if (!held) return false;
    this.remove(held);
    return true;
  }

  /** Takes the entry out of the list and the index; its slot in finishedOrder stays and is skipped when reached. */
  private remove(entry: StoreEntry): void {
    entry.held = false;
    if (entry.prev) entry.prev.next = entry.next;
    else this.first = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.last = entry.prev;
    entry.prev = null;
    if (this.walks === 0) entry.next = null;
    this.count--;
    if (entry.finished) this.finishedCount--;
    else this.unfinishedCount--;
    if (this.index) this.indexed(entry.task.id, null);
  }

  private markFinished(entry: StoreEntry): void {
    this.finishedCount++;
    this.finishedOrder.push(entry);
    while (this.finishedCount > this.maxFinished) {
      const oldest = this.finishedOrder[this.head]!;
      this.finishedOrder[this.head++] = undefined;
      if (!oldest.held) continue; // deleted meanwhile
      this.remove(oldest);
      for (const listener of this.evictionListeners) listener(oldest.task);
    }
    if (this.head > 1024 && this.head * 2 > this.finishedOrder.length) {
      this.finishedOrder = this.finishedOrder.slice(this.head);
      this.head = 0;
    }
  }

  /** The index by id, built now if it was not kept. */
  private lookup(): Map<string, StoreEntry> {
    this.unreadChanges = 0;
    if (this.index) return this.index;
    const index = new Map<string, StoreEntry>();
    for (let entry = this.first; entry; entry = entry.next) index.set(entry.task.id, entry);
    return (this.index = index);
  }

  /** Keeps the index in step (null: the id is gone), or drops it once it has long gone unread. */
  private indexed(id: string, entry: StoreEntry | null): void {
    if (++this.unreadChanges > this.count + INDEX_SLACK) {
      this.index = null;
      return;
    }
    if (entry) this.index!.set(id, entry);
    else this.index!.delete(id);
  }
}
