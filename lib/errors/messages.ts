/** Every error text of the package, in one place. */
export const messages = {
  invalidOption: (option: string, allowed: string, got: string) =>
    `nestjs-taskflow: invalid option "${option}": expected ${allowed}, got ${got}.`,
  duplicateTaskName: (name: string, first: string, second: string) =>
    `nestjs-taskflow: two background tasks are named "${name}" (${first} and ${second}); give one of them @BackgroundTask({ name: '...' }).`,
  requestScoped: (where: string) =>
    `nestjs-taskflow: @BackgroundTask on ${where}, which is request-scoped; background tasks must live on singleton providers.`,
  invalidTaskOption: (where: string, option: string, allowed: string) =>
    `nestjs-taskflow: @BackgroundTask option "${option}" on ${where} must be ${allowed}.`,
  unknownTask: (what: string) =>
    `nestjs-taskflow: ${what} is not a registered background task; mark the method with @BackgroundTask() on a provider of a module the app imports.`,
  taskNotFound: (id: string) => `Task ${id} not found`,
  invalidTransition: (id: string, action: string, status: string, allowed: string) =>
    `Cannot ${action} task ${id}: it is ${status} (only ${allowed} tasks can be ${action === 'retry' ? 'retried' : 'cancelled'})`,
  unregisteredOnRetry: (name: string) =>
    `Task function "${name}" is no longer registered in this application`,
  invalidArgs: (name: string, reason: string) =>
    `nestjs-taskflow: the arguments of ${name} cannot be stored: ${reason}. Pass JSON values (strings, numbers, booleans, null, plain objects and arrays).`,
  timeout: (seconds: number) => `Attempt timed out after ${seconds} s`,
  cancelled: () => 'Task was cancelled',
  managerStopped: () => 'nestjs-taskflow: the task manager has shut down and accepts no new tasks',
};

export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}
