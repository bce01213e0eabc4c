import { BadRequestException, Inject, Injectable, PipeTransform } from '@nestjs/common';
import { TASKFLOW_OPTIONS } from '../../constants';
import type { ResolvedTaskOptions } from '../../options/resolve-options';
import { DEFAULT_EXPORT_ROWS, MAX_EXPORT_ROWS } from '../../task/request-limits';
import { TaskQuery } from '../../task/task-query';
import { httpMessages } from '../http-messages';
import { parseListQuery } from './list-query.pipe';
import { integerParam, singleParam } from './query-values';

export interface ExportQuery {
  /** The filters and sort of `GET {path}` (its paging keys are not used). */
  filter: TaskQuery;
  /** Rows to write at most. */
  rows: number;
}

/**
 * The query of `GET {path}/export.csv`: the filters of `GET {path}`, and `limit`
 * rows (default 10,000, up to 100,000) instead of a page; no `offset`.
 */
@Injectable()
export class ExportQueryPipe implements PipeTransform<unknown, ExportQuery> {
  constructor(@Inject(TASKFLOW_OPTIONS) private readonly options: Pick<ResolvedTaskOptions, 'displayFuncArgs'>) {}

  transform(query: unknown): ExportQuery {
    const rows = integerParam(query, 'limit', 1, MAX_EXPORT_ROWS, DEFAULT_EXPORT_ROWS);
    if (singleParam(query, 'offset') !== undefined) throw new BadRequestException(httpMessages.exportOffset());
    const rest: Record<string, unknown> = { ...(query as Record<string, unknown>) };
    delete rest.limit;
    return { filter: parseListQuery(rest, Date.now(), this.options.displayFuncArgs), rows };
  }
}
