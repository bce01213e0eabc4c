// Answers of the admin routes whose types live next to Nest controllers on the
// server: restated here so that the client's type-check does not pull Nest in.

import type { TaskRecord } from '../../task/task-record';

/** `POST {path}/:id/retry` and `POST {path}/:id/cancel`. */
export interface TaskActionResult {
  task_id: string;
  task: TaskRecord;
}

/** The options of a @BackgroundTask as `GET {path}/registered` lists them (those the page shows). */
export interface RegisteredOptions {
  retries?: number;
  delay?: number;
  backoff?: number;
  timeout?: number | null;
  priority?: number | null;
  persist?: boolean;
  requeueOnInterrupt?: boolean;
  eager?: boolean;
  concurrency?: number | null;
  rateLimit?: { max: number; perSeconds: number } | null;
}

/** One row of `GET {path}/registered`. */
export interface RegisteredTask {
  name: string;
  /** Its tasks stay pending until resumed. */
  paused?: boolean;
  options?: RegisteredOptions;
}
