import { Injectable, PipeTransform } from '@nestjs/common';
import { parseSince, singleParam, textParam } from './query-values';

export interface RetryFailedFilter {
  /** Cutoff on created_at (epoch ms), null for all time. */
  since: number | null;
  funcName?: string;
}

/** The query of `POST {path}/retry-failed`: `since` (default `6h`, as in the original system) and `func_name`. */
@Injectable()
export class RetryFailedQueryPipe implements PipeTransform<unknown, RetryFailedFilter> {
  transform(query: unknown): RetryFailedFilter {
    const since = parseSince(singleParam(query, 'since') ?? '6h', Date.now());
    const funcName = textParam(query, 'func_name');
    return funcName === undefined || funcName === '' ? { since } : { since, funcName };
  }
}
