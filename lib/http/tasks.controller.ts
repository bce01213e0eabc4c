import { Body, Delete, Get, HttpCode, Inject, Injectable, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { TaskActorOptions } from '../auth/task-actor.decorator';
import { TaskRequiredRole } from '../auth/task-role.decorator';
import type { ActorOptions } from '../engine/add-task-options';
import { TASKFLOW_OPTIONS } from '../constants';
import { TaskManager } from '../engine/task-manager.service';
import { TaskNotFoundError } from '../errors/task-not-found.error';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { AuditEntry } from '../task/audit-entry';
import { BulkRetryResult, DeleteHistoryResult } from '../task/bulk-retry-result';
import { ScheduleInfo } from '../task/schedule-info';
import { TaskMetrics } from '../task/task-metrics';
import { TaskRecord } from '../task/task-record';
import { HttpRequest, hasContentType, requestPath } from '../web/http-types';
import {
  parseAuditQuery,
  parseBulkRetryBody,
  parseHistoryQuery,
  parseListQuery,
  parseRetryFailedQuery,
  parseTaskId,
} from '../web/request-parsers';
import { TaskflowExceptionFilter } from '../web/taskflow-exception.filter';

export interface TaskActionResult {
  task_id: string;
  task: TaskRecord;
}

/**
 * The REST API of SPEC §4. Only parses input and calls TaskManager. Fixed paths
 * are declared before `/:task_id` so none of them is ever taken for an id. The
 * `@Controller(path)` is applied per module instance by createAdminControllers.
 */
@Injectable()
@UseFilters(TaskflowExceptionFilter)
export class TasksController {
  constructor(
    protected readonly manager: TaskManager,
    @Inject(TASKFLOW_OPTIONS) protected readonly options: ResolvedTaskOptions,
  ) {}

  @Get()
  async list(@Query() query: unknown, @Res({ passthrough: true }) response: ServerResponse): Promise<TaskRecord[]> {
    const page = await this.manager.listTasks(parseListQuery(query, Date.now(), { searchArgs: this.options.displayFuncArgs }));
    response.setHeader('X-Total-Count', String(page.total));
    exposeHeader(response, 'X-Total-Count');
    return page.items;
  }

  @Get('metrics')
  metrics(): Promise<TaskMetrics> {
    return this.manager.metrics();
  }

  @Get('audit')
  audit(@Query() query: unknown): Promise<AuditEntry[]> {
    const { limit, offset } = parseAuditQuery(query);
    return this.manager.audit(limit, offset);
  }

  @Get('schedules')
  schedules(): Promise<ScheduleInfo[]> {
    return this.manager.schedules();
  }

  /** Registered @BackgroundTask functions and their options (for the dashboard). */
  @Get('registered')
  registered(): { name: string; options: Record<string, unknown> }[] {
    return this.manager.registeredTasks();
  }

  @Post('bulk-retry')
  @TaskRequiredRole('operator')
  @HttpCode(200)
  bulkRetry(@Body() body: unknown, @Req() request: HttpRequest, @TaskActorOptions() actor: ActorOptions): Promise<BulkRetryResult> {
    const ids = parseBulkRetryBody(body, hasContentType(request, 'application/json'));
    return this.manager.bulkRetry(ids, actor);
  }

  @Post('retry-failed')
  @TaskRequiredRole('operator')
  @HttpCode(200)
  retryFailed(@Query() query: unknown, @TaskActorOptions() actor: ActorOptions): Promise<BulkRetryResult> {
    return this.manager.retryFailed(parseRetryFailedQuery(query, Date.now()), actor);
  }

  @Delete('history')
  @TaskRequiredRole('admin')
  deleteHistory(@Query() query: unknown, @TaskActorOptions() actor: ActorOptions): Promise<DeleteHistoryResult> {
    return this.manager.deleteHistory(parseHistoryQuery(query, Date.now()), actor);
  }

  @Get(':task_id')
  async get(@Param('task_id') raw: unknown, @Req() request: HttpRequest): Promise<TaskRecord> {
    const id = parseTaskId(raw, 'GET', requestPath(request));
    const task = await this.manager.getTask(id);
    if (!task) throw new TaskNotFoundError(id);
    return task;
  }

  @Post(':task_id/retry')
  @TaskRequiredRole('operator')
  @HttpCode(200)
  async retry(@Param('task_id') raw: unknown, @Req() request: HttpRequest, @TaskActorOptions() actor: ActorOptions): Promise<TaskActionResult> {
    const task = await this.manager.retry(parseTaskId(raw, 'POST', requestPath(request)), actor);
    return { task_id: task.task_id, task };
  }

  @Post(':task_id/cancel')
  @TaskRequiredRole('operator')
  @HttpCode(200)
  async cancel(@Param('task_id') raw: unknown, @Req() request: HttpRequest, @TaskActorOptions() actor: ActorOptions): Promise<TaskActionResult> {
    const task = await this.manager.cancel(parseTaskId(raw, 'POST', requestPath(request)), actor);
    return { task_id: task.task_id, task };
  }
}

/** Lets browsers read `name` on cross-origin responses, keeping what a CORS middleware set. */
export function exposeHeader(response: ServerResponse, name: string): void {
  const current = response.getHeader('Access-Control-Expose-Headers');
  const list = current === undefined ? [] : String(current).split(',').map((h) => h.trim()).filter(Boolean);
  if (!list.some((h) => h.toLowerCase() === name.toLowerCase())) list.push(name);
  response.setHeader('Access-Control-Expose-Headers', list.join(', '));
}
