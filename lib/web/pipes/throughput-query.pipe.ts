import { Injectable, PipeTransform } from '@nestjs/common';
import { MAX_THROUGHPUT_MINUTES } from '../../task/task-insights';
import { integerParam } from './query-values';

/** The query of `GET {path}/insights/throughput?minutes=60` → the window in minutes. */
@Injectable()
export class ThroughputQueryPipe implements PipeTransform<unknown, number> {
  transform(query: unknown): number {
    return integerParam(query, 'minutes', 1, MAX_THROUGHPUT_MINUTES, 60);
  }
}
