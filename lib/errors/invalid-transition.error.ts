import { TaskStatus } from '../task/task-status';
import { messages } from './messages';

/** retry/cancel asked of a task whose status does not allow it. */
export class InvalidTransitionError extends Error {
  override readonly name = 'InvalidTransitionError';
  constructor(
    readonly taskId: string,
    readonly action: 'retry' | 'cancel',
    readonly status: TaskStatus,
    allowed: readonly TaskStatus[],
  ) {
    super(messages.invalidTransition(taskId, action, status, allowed.join(' or ')));
  }
}
