import { describeValue } from '../errors/messages';

/**
 * Every text the admin HTTP surface answers with, in one place. Errors of the
 * engine keep their own texts (lib/errors/messages.ts) when HTTP passes them on.
 */
export const httpMessages = {
  repeated: (name: string) => `Query parameter "${name}" must be given at most once`,
  notAString: (name: string) => `Query parameter "${name}" must be a single plain value`,
  tooLong: (name: string, max: number) => `"${name}" must be at most ${max} characters long`,
  invalidStatus: (got: string, allowed: readonly string[]) => `Invalid status ${describeValue(got)}: use one of ${allowed.join(', ')}`,
  invalidSort: (got: string, allowed: readonly string[]) =>
    `Invalid sort ${describeValue(got)}: use one of ${allowed.join(', ')} (a leading '-' sorts descending)`,
  invalidSince: (got: string) => `Invalid since value ${describeValue(got)}: use '<N>h', '<N>d' or 'all'`,
  invalidInteger: (name: string, got: string, min: number, max: number) =>
    `Invalid ${name} ${describeValue(got)}: must be an integer from ${min} to ${max}`,
  invalidTag: (got: string) => `Invalid tag filter ${describeValue(got)}: use tag=key:value (key not empty)`,
  tooManyTags: (max: number) => `At most ${max} tag filters may be given`,
  conflictingTag: (key: string) => `Tag key ${describeValue(key)} is given twice with different values`,
  invalidUnit: (got: string) => `Invalid unit ${describeValue(got)}: use min, hour or day`,
  missing: (name: string) => `Query parameter "${name}" is required`,
  bulkBody: () => 'Request body must be a JSON object {"task_ids": [string, ...]} sent as application/json',
  bulkIds: (max: number) => `"task_ids" must be an array of at most ${max} strings`,
  bulkId: (index: number, max: number) => `task_ids[${index}] must be a non-empty string of at most ${max} characters`,
  exportOffset: () => 'export.csv takes no offset',
  taskNotFound: () => 'Task not found',
  functionNotFound: (name: string) => `No background task named ${describeValue(name)} is registered in this application`,
  routeNotFound: (method: string, url: string) => `Cannot ${method} ${url}`,
  unregisteredOnRetry: (name: string) => `Task function ${describeValue(name)} is no longer registered in this application and cannot be retried`,
  streamClosed: () => 'The server is shutting down',
  tooManyStreams: (max: number) => `Too many live streams from this address (at most ${max} at once); close one and try again`,
  streamsFull: () => 'The server has as many live streams open as it allows; try again later',
};
