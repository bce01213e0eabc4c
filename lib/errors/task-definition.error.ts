/** A @BackgroundTask / @ScheduledTask is declared wrongly; thrown at startup. */
export class TaskDefinitionError extends Error {
  override readonly name = 'TaskDefinitionError';
}
