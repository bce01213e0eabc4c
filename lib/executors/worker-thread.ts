import { isMainThread, workerData } from 'node:worker_threads';

/** The key of `workerData` that tells a thread it is a task worker, and which module it boots. */
export const WORKER_DATA_KEY = 'nestjs-taskflow:worker';

/** What a task worker thread receives at start. */
export interface WorkerBoot {
  /** Absolute path of the compiled file exporting the module. */
  file: string;
  exportName: string;
}

/** The boot data when this thread is a task worker, else null (the main thread, or another worker). */
export function workerBoot(): WorkerBoot | null {
  if (isMainThread || workerData === null || typeof workerData !== 'object') return null;
  return ((workerData as Record<string, unknown>)[WORKER_DATA_KEY] as WorkerBoot | undefined) ?? null;
}

/**
 * True inside a task worker thread. There the package's modules are inert: the app's own
 * module can be the worker module without a second set of routes, writers and schedules.
 */
export function isTaskWorkerThread(): boolean {
  return workerBoot() !== null;
}
