import { TaskData } from '../task/task-record';
import { KEY_RELEASING_STATUSES } from '../task/task-status';
import { TaskStorage } from './task-storage';

/**
 * Idempotency keys: which live task holds each key here, and, with a persistent
 * backend, the reservation that settles a key across instances before the task runs.
 */
export class IdempotencyKeys {
  private readonly holders = new Map<string, string>();

  constructor(
    private readonly storage: TaskStorage,
    private readonly live: (id: string) => TaskData | undefined,
  ) {}

  bind(task: TaskData): void {
    if (task.idempotencyKey) this.holders.set(task.idempotencyKey, task.id);
  }

  /** The id of the live task holding `key`, if any. */
  holder(key: string): string | undefined {
    const id = this.holders.get(key);
    const holder = id ? this.live(id) : undefined;
    return holder && !KEY_RELEASING_STATUSES.includes(holder.status) ? holder.id : undefined;
  }

  forget(task: TaskData): void {
    // Holders first: every evicted record comes here, and most apps hold no key (the record, long finished, is then not read).
    if (this.holders.size > 0 && task.idempotencyKey && this.holders.get(task.idempotencyKey) === task.id) {
      this.holders.delete(task.idempotencyKey);
    }
  }

  /** False when `settle` would run the task at once (no key, or only a local one): callers skip it. */
  needsSettling(task: TaskData): boolean {
    return !!task.idempotencyKey && this.storage.persistent;
  }

  /**
   * Calls `run` once the task may run: at once without a key or when the key is
   * only local, else after the backend bound it; `lost` with the id of another
   * task already holding it.
   */
  settle(task: TaskData, run: () => void, lost: (holder: string) => void): void {
    if (!this.needsSettling(task)) return run();
    void this.storage
      .reserveKey(task.idempotencyKey!, task.id)
      .then((holder) => (holder === task.id || task.status !== 'pending' ? run() : lost(holder)));
  }
}
