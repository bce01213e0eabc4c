import { Injectable, PipeTransform } from '@nestjs/common';
import { RetryFailedFilter } from './retry-failed-query.pipe';
import { parseSince, singleParam, textParam } from './query-values';

/**
 * The query of `GET {path}/insights/dead-letters?since=7d&func_name=`: the same
 * filter as retry-failed, over a week by default.
 */
@Injectable()
export class DeadLettersQueryPipe implements PipeTransform<unknown, RetryFailedFilter> {
  transform(query: unknown): RetryFailedFilter {
    const since = parseSince(singleParam(query, 'since') ?? '7d', Date.now());
    const funcName = textParam(query, 'func_name');
    return funcName ? { since, funcName } : { since };
  }
}
