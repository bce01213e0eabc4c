import { BadRequestException, Inject, Injectable, PipeTransform } from '@nestjs/common';
import { TASKFLOW_OPTIONS } from '../../constants';
import type { ResolvedTaskOptions } from '../../options/resolve-options';
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, TASK_SORTS, TaskQuery, isTaskSort } from '../../task/task-query';
import { TASK_STATUSES, isTaskStatus } from '../../task/task-status';
import { httpMessages } from '../http-messages';
import { MAX_TEXT, integerParam, parseSince, repeatedParam, singleParam, textParam } from './query-values';

const MAX_TAGS = 20;

/**
 * The query of `GET {path}`: filters and paging, plus `sort` (one of TASK_SORTS)
 * and `search` (the wider search; it looks into arguments only with
 * displayFuncArgs, since the arguments are hidden otherwise).
 */
@Injectable()
export class ListQueryPipe implements PipeTransform<unknown, TaskQuery> {
  constructor(@Inject(TASKFLOW_OPTIONS) private readonly options: Pick<ResolvedTaskOptions, 'displayFuncArgs'>) {}

  transform(query: unknown): TaskQuery {
    return parseListQuery(query, Date.now(), this.options.displayFuncArgs);
  }
}

export function parseListQuery(query: unknown, now: number, searchArgs: boolean): TaskQuery {
  const result: TaskQuery = {
    limit: integerParam(query, 'limit', 1, MAX_LIST_LIMIT, DEFAULT_LIST_LIMIT),
    offset: integerParam(query, 'offset', 0, Number.MAX_SAFE_INTEGER, 0),
  };
  const status = singleParam(query, 'status');
  if (status !== undefined) {
    if (!isTaskStatus(status)) throw new BadRequestException(httpMessages.invalidStatus(status, TASK_STATUSES));
    result.status = status;
  }
  const funcName = textParam(query, 'func_name');
  if (funcName !== undefined && funcName !== '') result.funcName = funcName;
  const instance = textParam(query, 'instance');
  if (instance !== undefined && instance !== '') result.instance = instance;
  const q = textParam(query, 'q');
  if (q !== undefined && q !== '') result.q = q;
  const search = textParam(query, 'search');
  if (search !== undefined && search !== '') {
    result.search = search;
    if (searchArgs) result.searchArgs = true;
  }
  const sort = singleParam(query, 'sort');
  if (sort !== undefined && sort !== '') {
    if (!isTaskSort(sort)) throw new BadRequestException(httpMessages.invalidSort(sort, TASK_SORTS));
    result.sort = sort;
  }
  const since = singleParam(query, 'since');
  if (since !== undefined) {
    const cutoff = parseSince(since, now);
    if (cutoff !== null) result.since = cutoff;
  }
  const tags = parseTags(repeatedParam(query, 'tag'));
  if (tags) result.tags = tags;
  return result;
}

function parseTags(raw: string[]): Record<string, string> | undefined {
  if (raw.length === 0) return undefined;
  if (raw.length > MAX_TAGS) throw new BadRequestException(httpMessages.tooManyTags(MAX_TAGS));
  const tags: Record<string, string> = {};
  for (const item of raw) {
    if (item.length > 2 * MAX_TEXT) throw new BadRequestException(httpMessages.tooLong('tag', 2 * MAX_TEXT));
    const colon = item.indexOf(':');
    if (colon < 1) throw new BadRequestException(httpMessages.invalidTag(item));
    const key = item.slice(0, colon);
    const value = item.slice(colon + 1);
    if (Object.prototype.hasOwnProperty.call(tags, key)) {
      if (tags[key] !== value) throw new BadRequestException(httpMessages.conflictingTag(key));
      continue;
    }
    // defineProperty: a key such as "__proto__" stays an ordinary own key.
    Object.defineProperty(tags, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return tags;
}
