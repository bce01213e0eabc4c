import { Injectable, NotFoundException, PipeTransform } from '@nestjs/common';
import { TASK_ID_PATTERN } from '../../task/request-limits';
import { httpMessages } from '../http-messages';
import { RouteNotFoundException } from '../route-not-found.exception';

/** Fixed route segments that are never looked up as a task id. */
export const RESERVED_SEGMENTS: ReadonlySet<string> = new Set([
  'metrics',
  'audit',
  'bulk-retry',
  'retry-failed',
  'history',
  'schedules',
  'dashboard',
  'auth',
  'registered',
  'insights',
  'export.csv',
  'functions',
]);

/**
 * A `:task_id` path segment. Anything that cannot be an id answers 404 without
 * being looked up (nor echoed back); a fixed route name answers the 404 of an
 * unknown route.
 */
@Injectable()
export class TaskIdPipe implements PipeTransform<unknown, string> {
  transform(raw: unknown): string {
    if (typeof raw !== 'string' || !TASK_ID_PATTERN.test(raw)) throw new NotFoundException(httpMessages.taskNotFound());
    if (RESERVED_SEGMENTS.has(raw)) throw new RouteNotFoundException();
    return raw;
  }
}
