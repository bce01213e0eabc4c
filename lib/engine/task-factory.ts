import { BACKGROUND_TASK_METADATA } from '../constants';
import { TaskArgumentError } from '../errors/task-argument.error';
import { UnknownTaskError } from '../errors/unknown-task.error';
import { messages } from '../errors/messages';
import { NO_LOGS, NO_TAGS, TaskData, TaskSource } from '../task/task-record';
import { AddTaskOptions } from './add-task-options';
import { dueTimeOf } from './due-time';
import { newTaskId } from './task-ids';

export function newTask(
  funcName: string,
  args: unknown[],
  options: AddTaskOptions,
  extra: { priority: number | null; source: TaskSource; durable: boolean },
): TaskData {
  const createdAt = Date.now();
  return {
    id: newTaskId(),
    funcName,
    status: 'pending',
    createdAt,
    startTime: null,
    endTime: null,
    retriesUsed: 0,
    error: null,
    stacktrace: null,
    logs: NO_LOGS,
    tags: options.tags ? { ...options.tags } : NO_TAGS,
    source: extra.source,
    priority: options.priority ?? extra.priority,
    progress: null,
    runAt: dueTimeOf(options, createdAt),
    args,
    argsCipher: null,
    idempotencyKey: options.idempotencyKey ?? null,
    durable: extra.durable,
    owner: null,
    version: 0,
    unstored: true,
    // Set later (the first attempt, success, a worker task): in the literal, so setting them
    // changes no hidden class and allocates no out-of-object property store per task.
    attempts: undefined,
    result: undefined,
    executor: undefined,
  };
}

/** Rejects bad per-call options with a message that names the option. */
export function validateAddTaskOptions(options: AddTaskOptions): void {
  if (options === null || typeof options !== 'object') throw new TypeError('addTask: options must be an object');
  const { tags, idempotencyKey, priority, eager } = options;
  if (tags !== undefined) {
    if (tags === null || typeof tags !== 'object' || Array.isArray(tags)) throw new TypeError('addTask: tags must be an object of string values');
    for (const [k, v] of Object.entries(tags)) {
      if (typeof v !== 'string') throw new TypeError(`addTask: tag "${k}" must be a string, got ${typeof v}`);
    }
  }
  if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || idempotencyKey.length === 0 || idempotencyKey.length > 255)) {
    throw new TypeError('addTask: idempotencyKey must be a string of 1 to 255 characters');
  }
  if (priority !== undefined && (typeof priority !== 'number' || !Number.isFinite(priority))) {
    throw new TypeError('addTask: priority must be a finite number');
  }
  if (eager !== undefined && typeof eager !== 'boolean') throw new TypeError('addTask: eager must be true or false');
  // Most tasks have neither: no clock read for those.
  if (options.delay !== undefined || options.runAt !== undefined) dueTimeOf(options, Date.now());
}

/**
 * Durable tasks are stored as JSON: refuse, at the call, arguments that would
 * come back different (functions, class instances, Dates, Maps, undefined, NaN, cycles).
 */
export function assertJsonArgs(funcName: string, args: unknown[]): void {
  const problem = jsonProblem(args, 'args', new Set());
  if (problem) throw new TaskArgumentError(messages.invalidArgs(funcName, problem));
}

function jsonProblem(value: unknown, path: string, seen: Set<object>): string | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : `${path} is ${value}`;
  if (value === undefined) return `${path} is undefined`;
  if (typeof value !== 'object') return `${path} is ${article(typeof value)}`;
  if (seen.has(value)) return `${path} is a circular reference`;
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
    return `${path} is ${article((value.constructor as { name?: string } | undefined)?.name || 'non-plain object')}`;
  }
  seen.add(value);
  try {
    const entries = Array.isArray(value)
      ? value.map((v, i) => [`${path}[${i}]`, v] as const)
      : Object.entries(value).map(([k, v]) => [`${path}.${k}`, v] as const);
    for (const [p, v] of entries) {
      const problem = jsonProblem(v, p, seen);
      if (problem) return problem;
    }
    return null;
  } finally {
    seen.delete(value);
  }
}

/** "a Map", "an ArrayBuffer", "an object". */
function article(noun: string): string {
  return `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
}

/**
 * Why a function or name is not a registered task, in the case the caller is in: a
 * `.bind(...)`ed method, a decorated method of a class that is not a provider, or an
 * undecorated one.
 */
export function unknownTaskError(fnOrName: ((...args: never[]) => unknown) | string): UnknownTaskError {
  if (typeof fnOrName === 'string') return new UnknownTaskError(messages.unknownTask(`"${fnOrName}"`), fnOrName);
  const name = fnOrName.name || '(anonymous)';
  const what = `function ${name}`;
  if (name.startsWith('bound ')) return new UnknownTaskError(messages.unknownTaskBound(what), name);
  if (Reflect.getMetadata(BACKGROUND_TASK_METADATA, fnOrName) !== undefined) return new UnknownTaskError(messages.unknownTaskNotProvider(what), name);
  return new UnknownTaskError(messages.unknownTask(what), name);
}
