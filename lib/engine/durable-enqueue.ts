import { Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../constants';
import { RegisteredTask } from '../discovery/registered-task';
import { EnqueueTimeoutError } from '../errors/enqueue-timeout.error';
import { messages } from '../errors/messages';
import { InsertedTask } from '../storage/task-backend';
import { TaskData } from '../task/task-record';
import { TaskOrigin } from './caller-context';
import { TaskRuntime } from './task-runtime';
import { TaskStorage } from './task-storage';

/**
 * `enqueue()` on a persistent backend: the task is admitted (visible, and started)
 * only once its row is committed, so a SIGKILL after the promise resolves finds a
 * pending row that recovery runs. Three ways to that row:
 * - no key, no transaction: the write-behind's group commit, shared with every other
 *   change (whenWritten), so throughput stays that of addTask's writes;
 * - an idempotency key: key and row in one transaction of their own (insertTask), so
 *   a key whose holder is pending, running or successful anywhere returns the holder
 *   and nothing is written;
 * - a transaction: key and row through the application's EntityManager; the task is
 *   admitted when that transaction commits, dropped when it rolls back.
 * A row not committed within `enqueueTimeout` rejects with EnqueueTimeoutError and
 * leaves nothing: a write still queued is dropped; one already sent ends as a
 * `cancelled` record saying so, never as a task that runs, whether it committed after
 * all or failed (a failed COMMIT may have committed).
 * Outside a transaction it first waits while the start gate is shut (maxWriteBacklog),
 * within the same enqueueTimeout: a caller awaiting enqueue() is paced to the writer.
 */
const noCause = (): undefined => undefined;

export class DurableEnqueue {
  private readonly logger = new Logger(LOGGER_CONTEXT);

  constructor(
    private readonly runtime: TaskRuntime,
    private readonly storage: TaskStorage,
    private readonly timeoutSeconds: number,
  ) {}

  /** `origin`: the caller's context, captured at the call (the admission may run in a commit's). */
  async enqueue(task: TaskData, registered: RegisteredTask, eager: boolean, transaction: unknown, origin: TaskOrigin | null): Promise<string> {
    // Owned from its first write: another instance's recovery leaves it alone while this one lives.
    task.owner = this.storage.instanceId;
    task.version = 1;
    const deadline = Date.now() + this.timeoutSeconds * 1000;
    // Not inside the application's transaction: holding it open would hold its locks
    // (on SQLite, the write lock the writer needs to make the room).
    const room = transaction === undefined ? this.room() : null;
    if (room) {
      await this.bounded(task, room, noCause, () => undefined, deadline);
      if (!this.runtime.accepting) throw new Error(messages.managerStopped());
    }
    if (transaction !== undefined || (task.idempotencyKey !== null && this.storage.insertsTasks)) {
      if (!this.storage.insertsTasks) throw new TypeError(messages.transactionUnsupported(this.storage.kind));
      return this.insert(task, registered, eager, transaction, origin, deadline);
    }
    if (task.idempotencyKey !== null) {
      // A backend without insertTask: the key first, then the row (a crash in between keeps the key, as addTask does).
      const holder = await this.bounded(task, this.storage.reserveKey(task.idempotencyKey, task.id), noCause, () => undefined, deadline);
      if (holder !== task.id) return holder;
    }
    const { written, withdraw } = this.storage.writeNew(task);
    await this.bounded(
      task,
      written,
      noCause,
      () => {
        if (!withdraw(() => this.abandon(task))) this.logger.warn(messages.enqueueTimeout(task.funcName, this.timeoutSeconds, null));
      },
      deadline,
    );
    task.unstored = false;
    this.runtime.admit(task, registered, eager, origin);
    return task.id;
  }

  private async insert(
    task: TaskData,
    registered: RegisteredTask,
    eager: boolean,
    transaction: unknown,
    origin: TaskOrigin | null,
    deadline: number,
  ): Promise<string> {
    let lastError: unknown;
    let gaveUp = false;
    // Its own transaction is retried until the deadline, as the write-behind retries its batches; the
    // application's is not (a failed statement may have ended it): its error is the caller's.
    const insertOnce = () => this.storage.insertTask(task, transaction);
    const attempt: Promise<InsertedTask> =
      transaction !== undefined
        ? insertOnce()
        : (async () => {
            for (let n = 1; ; n++) {
              try {
                return await insertOnce();
              } catch (error) {
                if (gaveUp || error instanceof TypeError) throw error;
                lastError = error;
                await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** n)));
                // Given up meanwhile: no new attempt for a caller already told it failed.
                if (gaveUp) throw error;
              }
            }
          })();
    const inserted = await this.bounded(
      task,
      attempt,
      () => lastError,
      () => {
        gaveUp = true;
        // Sent but unanswered: if it commits after all, it must not run for a caller told it failed.
        // A failed attempt may have committed too (its answer lost after the COMMIT): a cancelled
        // record either way, as the write-behind's withdrawn tasks get, never a pending row
        // that recovery would run. Not for the application's transaction, whose outcome is its own.
        void attempt.then(
          (late) => this.lateInsert(task, late),
          (error: unknown) => {
            if (transaction === undefined && !(error instanceof TypeError)) this.abandon(task);
          },
        );
      },
      deadline,
    );
    if (inserted.holder !== task.id) return inserted.holder;
    task.unstored = false;
    if (!inserted.outcome) {
      this.runtime.admit(task, registered, eager, origin);
    } else {
      void inserted.outcome.then((committed) => {
        if (committed && this.runtime.accepting) this.runtime.admit(task, registered, eager, origin);
        // Committed while shutting down: the row stays pending and owned by this instance, and recovery runs it.
      });
    }
    return task.id;
  }

  private lateInsert(task: TaskData, late: InsertedTask): void {
    if (late.holder !== task.id) return;
    if (!late.outcome) this.abandon(task);
    else void late.outcome.then((committed) => committed && this.abandon(task));
  }

  /** A row that committed after its caller was told it did not: stored as cancelled, never run. */
  private abandon(task: TaskData): void {
    task.unstored = false;
    this.runtime.abandon(task, messages.enqueueTimeout(task.funcName, this.timeoutSeconds, null));
  }

  /** Null while tasks may start; else resolves once they may (see TaskStorage.hasWriteRoom). */
  private room(): Promise<void> | null {
    let resolve!: () => void;
    // Woken once there is room; another caller may have taken it first, so it asks again.
    const retry = (): void => {
      if (this.storage.hasWriteRoom(retry)) resolve();
    };
    if (this.storage.hasWriteRoom(retry)) return null;
    return new Promise<void>((done) => (resolve = done));
  }

  /** `work`, or EnqueueTimeoutError (with the last database error `cause` knows) at `deadline`; then `gaveUp` runs. */
  private bounded<T>(task: TaskData, work: Promise<T>, cause: () => unknown, gaveUp: () => void, deadline: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          gaveUp();
          reject(new EnqueueTimeoutError(task.funcName, this.timeoutSeconds, cause()));
        },
        Math.max(0, deadline - Date.now()),
      );
      work.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }
}
