/** Every error text of the package, in one place. */
export const messages = {
  invalidOption: (option: string, allowed: string, got: string) => `nestjs-taskflow: invalid option "${option}": expected ${allowed}, got ${got}.`,
  duplicateNestCore: (own: string, others: string[]) =>
    `nestjs-taskflow: two copies of @nestjs/core are loaded: ${others.join(', ')} (the app's) and ${own} (nestjs-taskflow's), so Nest's classes differ between them and dependency injection fails. ` +
    'This happens when nestjs-taskflow is installed from a folder that has its own node_modules (npm install ../nestjs-taskflow): ' +
    "install it from a packed tarball (npm pack, then npm install ./nestjs-taskflow-<version>.tgz) or with npm install --install-links, or remove that folder's node_modules/@nestjs.",
  duplicateTaskName: (name: string, first: string, second: string) =>
    `nestjs-taskflow: two background tasks are named "${name}" (${first} and ${second}); give one of them @BackgroundTask({ name: '...' }).`,
  requestScoped: (where: string) =>
    `nestjs-taskflow: @BackgroundTask on ${where}, which is request-scoped; background tasks must live on singleton providers.`,
  invalidTaskOption: (where: string, option: string, allowed: string) =>
    `nestjs-taskflow: @BackgroundTask option "${option}" on ${where} must be ${allowed}.`,
  unknownTask: (what: string) =>
    `nestjs-taskflow: ${what} is not a registered background task; mark the method with @BackgroundTask() on a provider of a module the app imports.`,
  unknownTaskNotProvider: (what: string) =>
    `nestjs-taskflow: ${what} is marked with @BackgroundTask(), but its class is not a provider the app knows; add the class to the \`providers\` of a module the app imports (and inject it, rather than calling \`new\`).`,
  unknownTaskBound: (what: string) =>
    `nestjs-taskflow: ${what} was made by .bind(...), which hides the decorated method; pass the method itself (this.service.method): the task runs with its provider as \`this\`.`,
  taskNotFound: (id: string) => `Task ${id} not found`,
  invalidTransition: (id: string, action: string, status: string, allowed: string) =>
    `Cannot ${action} task ${id}: it is ${status} (only ${allowed} tasks can be ${action === 'retry' ? 'retried' : 'cancelled'})`,
  unregisteredOnRetry: (name: string) => `Task function ${describeValue(name)} is no longer registered in this application and cannot be retried`,
  invalidArgs: (name: string, reason: string) =>
    `nestjs-taskflow: the arguments of ${name} cannot be stored: ${reason}. Pass JSON values (strings, numbers, booleans, null, plain objects and arrays).`,
  timeout: (seconds: number) => `Attempt timed out after ${seconds} s`,
  cancelled: () => 'Task was cancelled',
  noWorkerExecutor: (name: string) =>
    `nestjs-taskflow: ${name} has executor 'worker' but the manager has no worker pool: set the module option \`workers: { module: '<compiled file>#<export>' }\``,
  workerPoolMissing: (names: string) =>
    `nestjs-taskflow: ${names} ha${names.includes(',') ? 've' : 's'} executor 'worker' but the module option \`workers\` is not set: add workers: { module: path.join(__dirname, 'app.module.js') + '#AppModule' }`,
  piscinaMissing: () => "nestjs-taskflow: executor 'worker' runs on the package piscina, which is not installed: npm install piscina@^5",
  argsCannotCross: (name: string, reason: string) =>
    `nestjs-taskflow: the arguments of ${name} cannot cross into a worker thread: ${reason}. Pass values that survive structured clone (primitives, plain objects, arrays, Date, Map, Set, typed arrays).`,
  resultCannotCross: (name: string, reason: string) =>
    `the result of ${name} cannot cross back from its worker thread: ${reason}; return values that survive structured clone`,
  workerCrashed: (name: string, how: string) => `the worker thread running ${name} died: ${how}; the pool replaces it`,
  workerTerminated: (name: string, graceMs: number) =>
    `the worker thread running ${name} did not end within ${graceMs / 1000} s of its abort signal and was terminated`,
  enqueueTimeout: (funcName: string, seconds: number, cause: string | null) =>
    `nestjs-taskflow: enqueue of ${funcName} was not committed within enqueueTimeout (${seconds} s)${cause ? `: ${cause}` : ''}; no task was created`,
  transactionWithoutDatabase: () =>
    "nestjs-taskflow: enqueue({ transaction }) needs the package's database (the `database` or `snapshotDb` option); this manager keeps tasks in memory",
  transactionUnsupported: (kind: string) =>
    `nestjs-taskflow: enqueue({ transaction }): the ${kind} backend cannot write a task into an application transaction (it has no insertTask)`,
  badRateLimitKey: (name: string, got: string) => `rateLimitKey of ${name} must return a string, got ${got}`,
  managerStopped: () => 'nestjs-taskflow: the task manager has shut down and accepts no new tasks',
  argsNoKey: (name: string, keyId: string) =>
    `the arguments of ${name} are encrypted (key id ${keyId}) but no encryptArgsKey is configured; start the app with the key they were encrypted with`,
  argsOtherKey: (name: string, keyId: string, current: string) =>
    `the arguments of ${name} were encrypted with another key (key id ${keyId}; the configured encryptArgsKey has id ${current}). Was the key rotated? Tasks encrypted with the old key cannot run with the new one`,
  argsTampered: (name: string) => `the encrypted arguments of ${name} failed authentication: they were altered, or encrypted under another task name`,
  argsUnreadable: (name: string) => `the encrypted arguments of ${name} are not a payload this version can read`,
  scheduleTrigger: (where: string) => `nestjs-taskflow: @ScheduledTask on ${where} needs exactly one of "every" (seconds) or "cron" (5 fields).`,
  scheduleOption: (where: string, option: string, allowed: string, got: string) =>
    `nestjs-taskflow: @ScheduledTask option "${option}" on ${where} must be ${allowed}, got ${got}.`,
  scheduleCron: (where: string, expression: string, reason: string) =>
    `nestjs-taskflow: @ScheduledTask on ${where} has an invalid cron expression "${expression}": ${reason}. Use 5 fields: minute hour day-of-month month day-of-week, e.g. '0 9 * * 1-5'.`,
  scheduleTimezone: (where: string, timezone: string) =>
    `nestjs-taskflow: @ScheduledTask on ${where} has an unknown timezone "${timezone}"; use an IANA name such as 'UTC' or 'Europe/Paris'.`,
  scheduleWithBackgroundTask: (where: string) =>
    `nestjs-taskflow: ${where} has both @ScheduledTask and @BackgroundTask; keep only @ScheduledTask (it registers the method as a background task too).`,
  scheduleRequestScoped: (where: string) =>
    `nestjs-taskflow: @ScheduledTask on ${where}, which is request-scoped; scheduled tasks must live on singleton providers.`,
  duplicateFileLogger: (file: string) => `two FileLoggers write to ${file}; give each its own file (or pass one FileLogger)`,
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
