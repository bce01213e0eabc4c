import { Injectable, PipeTransform } from '@nestjs/common';
import { MAX_LIST_LIMIT } from '../../task/task-query';
import { integerParam } from './query-values';

export interface AuditPage {
  limit: number;
  offset: number;
}

/** The query of `GET {path}/audit?limit&offset` (1,000 entries by default). */
@Injectable()
export class AuditQueryPipe implements PipeTransform<unknown, AuditPage> {
  transform(query: unknown): AuditPage {
    return {
      limit: integerParam(query, 'limit', 1, MAX_LIST_LIMIT, 1000),
      offset: integerParam(query, 'offset', 0, Number.MAX_SAFE_INTEGER, 0),
    };
  }
}
