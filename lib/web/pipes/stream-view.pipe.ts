import { BadRequestException, Inject, Injectable, PipeTransform } from '@nestjs/common';
import { TASKFLOW_OPTIONS } from '../../constants';
import type { ResolvedTaskOptions } from '../../options/resolve-options';
import type { StreamView } from '../../stream/stream-view';
import { TASK_ID_PATTERN } from '../../task/request-limits';
import { httpMessages } from '../http-messages';
import { parseListQuery } from './list-query.pipe';
import { ownValue, singleParam } from './query-values';

/** The list filters a view stream takes, as `GET {path}` reads them. */
const FILTER_KEYS = ['status', 'func_name', 'q', 'search', 'tag', 'since', 'instance'] as const;

/**
 * The query of `GET {path}/dashboard/stream`: none of these keys, a plain stream (every
 * change); `view=1`, any of the filters of `GET {path}` (validated as that route does)
 * or `task=<id>`, a view stream. Other keys are ignored, as before.
 */
@Injectable()
export class StreamViewPipe implements PipeTransform<unknown, StreamView | null> {
  constructor(@Inject(TASKFLOW_OPTIONS) private readonly options: Pick<ResolvedTaskOptions, 'displayFuncArgs'>) {}

  transform(query: unknown): StreamView | null {
    const marker = singleParam(query, 'view');
    if (marker !== undefined && marker !== '1') throw new BadRequestException(httpMessages.invalidView(marker));
    const task = singleParam(query, 'task');
    if (task !== undefined && !TASK_ID_PATTERN.test(task)) throw new BadRequestException(httpMessages.invalidStreamTask(task));
    const filters: Record<string, unknown> = {};
    for (const key of FILTER_KEYS) {
      const value = ownValue(query, key);
      if (value !== undefined) filters[key] = value;
    }
    if (marker === undefined && task === undefined && Object.keys(filters).length === 0) return null;
    const { limit: _limit, offset: _offset, ...filter } = parseListQuery(filters, Date.now(), this.options.displayFuncArgs);
    return { filter, task: task ?? null };
  }
}
