/** The worker thread running an attempt died (it exited, threw outside the task, or ran out of memory). */
export class WorkerCrashedError extends Error {
  override readonly name = 'WorkerCrashedError';
}
