import { Get, Inject, Injectable, Query, Res, UseFilters } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { TASKFLOW_OPTIONS } from '../constants';
import { TaskInsights } from '../engine/task-insights.service';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { DeadLetterReport, FunctionInsight, ThroughputReport } from '../task/task-insights';
import { exposeHeader } from '../web/expose-header';
import { adaptResponse } from '../web/http-adapter';
import { DeadLettersQueryPipe } from '../web/pipes/dead-letters-query.pipe';
import { ExportQuery, ExportQueryPipe } from '../web/pipes/export-query.pipe';
import { RetryFailedFilter } from '../web/pipes/retry-failed-query.pipe';
import { ThroughputQueryPipe } from '../web/pipes/throughput-query.pipe';
import { TaskflowExceptionFilter } from '../web/taskflow-exception.filter';
import { csvHeader, csvLine, csvRow } from './task-csv';

/** Bytes of CSV gathered before each write, so a large export is a few hundred writes, not one per row. */
const CSV_CHUNK = 64 * 1024;

/**
 * Read routes the dashboard uses beside the task API (documented in the README):
 *
 * - `GET {path}/insights/throughput?minutes=60` → ThroughputReport
 * - `GET {path}/insights/functions` → FunctionInsight[]
 * - `GET {path}/insights/dead-letters?since=7d&func_name=` → DeadLetterReport
 * - `GET {path}/export.csv?<the filters of GET {path}>&sort=&limit=` → CSV
 *
 * Guarded like the API (401 without a session when auth is on). Mounted before
 * TasksController so no fixed path is ever taken for a task id.
 */
@Injectable()
@UseFilters(TaskflowExceptionFilter)
export class InsightsController {
  constructor(
    protected readonly insights: TaskInsights,
    @Inject(TASKFLOW_OPTIONS) protected readonly options: ResolvedTaskOptions,
  ) {}

  @Get('insights/throughput')
  throughput(@Query(ThroughputQueryPipe) minutes: number): Promise<ThroughputReport> {
    return this.insights.throughput(minutes);
  }

  @Get('insights/functions')
  functions(): Promise<FunctionInsight[]> {
    return this.insights.functions();
  }

  @Get('insights/dead-letters')
  deadLetters(@Query(DeadLettersQueryPipe) filter: RetryFailedFilter): Promise<DeadLetterReport> {
    return this.insights.deadLetters(filter);
  }

  /**
   * The tasks matching the filters of `GET {path}` as CSV (see task-csv.ts),
   * streamed page by page, `limit` rows at most.
   */
  @Get('export.csv')
  async exportCsv(@Query(ExportQueryPipe) query: ExportQuery, @Res() reply: unknown): Promise<void> {
    const withArgs = this.options.displayFuncArgs;
    const records = this.insights.exportRecords(query.filter, query.rows);
    // The first page is read before the headers go out, so a failing database is a clean error.
    const first = await records.next();
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const response = adaptResponse(reply);
    response.setHeader('Content-Type', 'text/csv; charset=utf-8');
    response.setHeader('Content-Disposition', `attachment; filename="tasks-${stamp}.csv"`);
    response.setHeader('Cache-Control', 'no-store');
    response.setHeader('X-Content-Type-Options', 'nosniff');
    exposeHeader(response, 'Content-Disposition');
    const out = response.takeOver(200);
    let chunk = csvLine(csvHeader(withArgs));
    for (let next = first; !next.done; next = await records.next()) {
      chunk += csvLine(csvRow(next.value, withArgs));
      if (chunk.length >= CSV_CHUNK) {
        if (out.destroyed) return void (await records.return(undefined));
        await write(out, chunk);
        chunk = '';
      }
    }
    out.end(chunk);
  }
}

/** Writes and waits for the socket to drain (or close), so a slow client does not make the export pile up in memory. */
function write(response: ServerResponse, chunk: string): Promise<void> {
  if (response.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}
