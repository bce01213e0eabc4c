/** Arguments that cannot survive a JSON round trip when the task must be stored. */
export class TaskArgumentError extends Error {
  override readonly name = 'TaskArgumentError';
}
