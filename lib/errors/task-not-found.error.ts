import { messages } from './messages';

export class TaskNotFoundError extends Error {
  override readonly name = 'TaskNotFoundError';
  constructor(readonly taskId: string) {
    super(messages.taskNotFound(taskId));
  }
}
