import { Subject } from 'rxjs';
import { TaskData } from '../task/task-record';
import { isTerminal } from '../task/task-status';

/** Versions remembered per task at most (oldest forgotten first): enough to drop repeats of recent changes. */
const MAX_VERSIONS = 50_000;

/**
 * Tasks other instances changed, as the change feed brings them (see RemoteChanges): a
 * stream of their new states, and the unfinished ones among them, so a live stream
 * opened here lists every instance's pending and running tasks, not only this one's.
 * Bounded: at most `maxLive` unfinished tasks are kept (the oldest change dropped
 * first), and a change at or below the version last seen of a task is dropped. A task
 * this instance takes on (a claim, a retry here) is forgotten: its own changes win.
 */
export class RemoteTasks {
  readonly changes = new Subject<TaskData>();
  private readonly unfinished = new Map<string, TaskData>();
  private readonly versions = new Map<string, number>();

  private wanted = false;
  /** Called when demand starts (the feed then reads what is unfinished elsewhere). */
  onDemand: (() => void) | null = null;

  constructor(private readonly maxLive: number) {}

  /** Someone here shows other instances' changes. */
  get demand(): boolean {
    return this.wanted;
  }

  /** Starts or stops following; stopping forgets what was followed (it would go stale). */
  setDemand(on: boolean): void {
    if (on === this.wanted) return;
    this.wanted = on;
    if (on) this.onDemand?.();
    else {
      this.unfinished.clear();
      this.versions.clear();
    }
  }

  /** The last version seen of a task changed elsewhere, if remembered. */
  versionOf(id: string): number | undefined {
    return this.versions.get(id);
  }

  /** A task's new state from another instance; false (and nothing published) when it is not newer than the last seen. */
  accept(task: TaskData): boolean {
    const seen = this.versions.get(task.id);
    if (seen !== undefined && seen >= task.version) return false;
    this.versions.delete(task.id);
    this.versions.set(task.id, task.version);
    if (this.versions.size > MAX_VERSIONS) this.versions.delete(this.versions.keys().next().value!);
    this.unfinished.delete(task.id);
    if (!isTerminal(task.status)) {
      this.unfinished.set(task.id, task);
      if (this.unfinished.size > this.maxLive) this.unfinished.delete(this.unfinished.keys().next().value!);
    }
    if (this.changes.observed) this.changes.next(task);
    return true;
  }

  /** This instance holds the task now. */
  forget(id: string): void {
    if (this.unfinished.size > 0) this.unfinished.delete(id);
  }

  /** Pending and running tasks of other instances, in the order of their last change. */
  liveTasks(): TaskData[] {
    return [...this.unfinished.values()];
  }

  complete(): void {
    this.changes.complete();
  }
}
