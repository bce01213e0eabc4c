import { BackgroundTaskOptions } from '../decorators/background-task.decorator';
import { TaskDefinitionError } from '../errors/task-definition.error';
import { messages } from '../errors/messages';
import { toFlowLimits } from './flow-limits';
import { TaskDefinition } from './registered-task';

/** Applies defaults to decorator options and rejects bad ones, naming class and method. */
export function toTaskDefinition(options: BackgroundTaskOptions, location: string): TaskDefinition {
  const fail = (option: string, allowed: string): never => {
    throw new TaskDefinitionError(messages.invalidTaskOption(location, option, allowed));
  };
  const num = (option: keyof BackgroundTaskOptions, fallback: number, min: number, integer = false): number => {
    const v = options[option];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
      fail(option, `${integer ? 'an integer' : 'a number'} >= ${min}`);
    }
    return v as number;
  };
  const flag = (option: keyof BackgroundTaskOptions): boolean => {
    const v = options[option];
    if (v === undefined) return false;
    if (typeof v !== 'boolean') fail(option, 'true or false');
    return v as boolean;
  };
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name.trim() === '' || options.name.length > 200)) {
    fail('name', 'a non-empty string of at most 200 characters');
  }
  if (options.priority !== undefined && (typeof options.priority !== 'number' || !Number.isFinite(options.priority))) {
    fail('priority', 'a finite number');
  }
  if (options.timeout !== undefined && (typeof options.timeout !== 'number' || !(options.timeout > 0) || !Number.isFinite(options.timeout))) {
    fail('timeout', 'a number of seconds > 0');
  }
  if (options.executor !== undefined && options.executor !== 'async' && options.executor !== 'worker') {
    fail('executor', "'async' or 'worker'");
  }
  if (options.retryIf !== undefined && typeof options.retryIf !== 'function') fail('retryIf', 'a function (error) => boolean');
  return {
    name: options.name ?? location,
    retries: num('retries', 0, 0, true),
    delay: num('delay', 0, 0),
    backoff: num('backoff', 1, 1),
    persist: flag('persist'),
    requeueOnInterrupt: flag('requeueOnInterrupt'),
    eager: flag('eager'),
    priority: options.priority ?? null,
    timeout: options.timeout ?? null,
    executor: options.executor ?? 'async',
    retryIf: options.retryIf ?? null,
    ...toFlowLimits(options, fail),
  };
}
