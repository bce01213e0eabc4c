import { BadRequestException, Get, Inject, Injectable, Query, Res, UseFilters } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { TASKFLOW_OPTIONS } from '../constants';
import { TaskInsights } from '../engine/task-insights.service';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { DEFAULT_EXPORT_ROWS, MAX_EXPORT_ROWS } from '../task/request-limits';
import { DeadLetterReport, FunctionInsight, MAX_THROUGHPUT_MINUTES, ThroughputReport } from '../task/task-insights';
import { TaskRecord } from '../task/task-record';
import { httpMessages } from '../web/http-messages';
import { parseInteger, parseListQuery, parseSince, singleParam } from '../web/request-parsers';
import { TaskflowExceptionFilter } from '../web/taskflow-exception.filter';
import { exposeHeader } from './tasks.controller';

/**
 * Read routes the dashboard uses beside SPEC §4 (documented in the README):
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
  throughput(@Query() query: unknown): Promise<ThroughputReport> {
    const raw = singleParam(query, 'minutes');
    const minutes = raw === undefined ? 60 : parseInteger('minutes', raw, 1, MAX_THROUGHPUT_MINUTES);
    return this.insights.throughput(minutes);
  }

  @Get('insights/functions')
  functions(): Promise<FunctionInsight[]> {
    return this.insights.functions();
  }

  @Get('insights/dead-letters')
  deadLetters(@Query() query: unknown): Promise<DeadLetterReport> {
    const since = parseSince(singleParam(query, 'since') ?? '7d', Date.now());
    const funcName = singleParam(query, 'func_name');
    if (funcName !== undefined && funcName.length > 256) throw new BadRequestException(httpMessages.tooLong('func_name', 256));
    return this.insights.deadLetters(funcName ? { since, funcName } : { since });
  }

  /**
   * The tasks matching the filters of `GET {path}` (status, func_name, q, search, tag,
   * since, sort) as CSV, streamed page by page; `limit` rows at most (default 10,000,
   * up to 100,000). `X-Total-Count` gives the number matching. Text cells that a
   * spreadsheet would run as a formula (starting with = + - @, tab or CR) get a `'`.
   */
  @Get('export.csv')
  async exportCsv(@Query() query: unknown, @Res() response: ServerResponse): Promise<void> {
    const rawLimit = singleParam(query, 'limit');
    const cap = rawLimit === undefined ? DEFAULT_EXPORT_ROWS : parseInteger('limit', rawLimit, 1, MAX_EXPORT_ROWS);
    if (singleParam(query, 'offset') !== undefined) throw new BadRequestException('export.csv takes no offset');
    const rest = { ...(query as Record<string, unknown>) };
    delete rest.limit;
    const filter = parseListQuery(rest, Date.now(), { searchArgs: this.options.displayFuncArgs });
    const withArgs = this.options.displayFuncArgs;
    const records = this.insights.exportRecords(filter, cap);
    // The first page is read before the headers go out, so a failing database is a clean error.
    const first = await records.next();
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    response.statusCode = 200;
    response.setHeader('Content-Type', 'text/csv; charset=utf-8');
    response.setHeader('Content-Disposition', `attachment; filename="tasks-${stamp}.csv"`);
    response.setHeader('Cache-Control', 'no-store');
    response.setHeader('X-Content-Type-Options', 'nosniff');
    exposeHeader(response, 'Content-Disposition');
    let chunk = csvLine(csvHeader(withArgs));
    for (let next = first; !next.done; next = await records.next()) {
      chunk += csvLine(csvRow(next.value, withArgs));
      if (chunk.length >= 64 * 1024) {
        if (response.destroyed) return void (await records.return(undefined));
        await write(response, chunk);
        chunk = '';
      }
    }
    response.end(chunk);
  }
}

const HEADER = [
  'task_id', 'func_name', 'status', 'source', 'priority', 'created_at', 'start_time', 'end_time', 'duration_seconds',
  'retries_used', 'progress', 'tags', 'error',
];

export function csvHeader(withArgs: boolean): string[] {
  return withArgs ? [...HEADER, 'args'] : HEADER;
}

export function csvRow(r: TaskRecord, withArgs: boolean): (string | number | null)[] {
  const row: (string | number | null)[] = [
    r.task_id, r.func_name, r.status, r.source, r.priority, r.created_at, r.start_time, r.end_time, r.duration,
    r.retries_used, r.progress, JSON.stringify(r.tags), r.error,
  ];
  if (withArgs) row.push(safeJson(r.args ?? []));
  return row;
}

/** One CSV line (RFC 4180, CRLF); text cells are defused against formula injection. */
export function csvLine(cells: (string | number | null)[]): string {
  return cells.map(csvCell).join(',') + '\r\n';
}

export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = value;
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? '';
  } catch {
    return '';
  }
}

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
