import { Delete, Get, HttpCode, Inject, Injectable, Param, Post, Query, Res, UseFilters } from '@nestjs/common';
import { TaskActorOptions } from '../auth/task-actor.decorator';
import { TaskRequiredRole } from '../auth/task-role.decorator';
import type { ActorOptions } from '../engine/add-task-options';
import { TASKFLOW_OPTIONS } from '../constants';
import { TaskInstances } from '../engine/task-instances.service';
import { TaskManager } from '../engine/task-manager.service';
import { TaskNotFoundError } from '../errors/task-not-found.error';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { AuditEntry } from '../task/audit-entry';
import { BulkRetryResult, DeleteHistoryResult, RetryFailedResult } from '../task/bulk-retry-result';
import { ScheduleInfo } from '../task/schedule-info';
import { TaskInstance } from '../task/task-instance';
import { TaskMetrics } from '../task/task-metrics';
import { TaskQuery } from '../task/task-query';
import { TaskRecord } from '../task/task-record';
import { exposeHeader } from '../web/expose-header';
import { adaptResponse } from '../web/http-adapter';
import { BodyLimit } from '../web/body-limit.decorator';
import { JsonBody } from '../web/json-body.decorator';
import { AuditPage, AuditQueryPipe } from '../web/pipes/audit-query.pipe';
import { BULK_RETRY_BODY_LIMIT, BulkRetryBodyPipe } from '../web/pipes/bulk-retry-body.pipe';
import { HistoryQueryPipe } from '../web/pipes/history-query.pipe';
import { ListQueryPipe } from '../web/pipes/list-query.pipe';
import { RetryFailedFilter, RetryFailedQueryPipe } from '../web/pipes/retry-failed-query.pipe';
import { TaskIdPipe } from '../web/pipes/task-id.pipe';
import { TaskflowExceptionFilter } from '../web/taskflow-exception.filter';

export interface TaskActionResult {
  task_id: string;
  task: TaskRecord;
}

/**
 * The REST API. Pipes parse the input; the handlers only call TaskManager. Fixed paths
 * are declared before `/:task_id` so none of them is ever taken for an id. The
 * `@Controller(path)` is applied per module instance by createAdminControllers.
 */
@Injectable()
@UseFilters(TaskflowExceptionFilter)
export class TasksController {
  constructor(
    protected readonly manager: TaskManager,
    @Inject(TASKFLOW_OPTIONS) protected readonly options: ResolvedTaskOptions,
    protected readonly instances: TaskInstances,
  ) {}

  @Get()
  async list(@Query(ListQueryPipe) query: TaskQuery, @Res({ passthrough: true }) reply: unknown): Promise<TaskRecord[]> {
    const page = await this.manager.listTasks(query);
    const response = adaptResponse(reply);
    response.setHeader('X-Total-Count', String(page.total));
    exposeHeader(response, 'X-Total-Count');
    return page.items;
  }

  @Get('metrics')
  metrics(): Promise<TaskMetrics> {
    return this.manager.metrics();
  }

  @Get('audit')
  audit(@Query(AuditQueryPipe) page: AuditPage): Promise<AuditEntry[]> {
    return this.manager.audit(page.limit, page.offset);
  }

  @Get('schedules')
  schedules(): Promise<ScheduleInfo[]> {
    return this.manager.schedules();
  }

  /** The instances sharing the database, alive first (empty without one). */
  @Get('instances')
  listInstances(): Promise<TaskInstance[]> {
    return this.instances.list();
  }

  /** Registered @BackgroundTask functions and their options (for the dashboard). */
  @Get('registered')
  registered(): { name: string; options: Record<string, unknown> }[] {
    return this.manager.registeredTasks();
  }

  /** JSON only, so a cross-site form cannot post it. */
  @Post('bulk-retry')
  @BodyLimit(BULK_RETRY_BODY_LIMIT)
  @TaskRequiredRole('operator')
  @HttpCode(200)
  bulkRetry(@JsonBody(BulkRetryBodyPipe) ids: string[], @TaskActorOptions() actor: ActorOptions): Promise<BulkRetryResult> {
    return this.manager.bulkRetry(ids, actor);
  }

  @Post('retry-failed')
  @TaskRequiredRole('operator')
  @HttpCode(200)
  retryFailed(@Query(RetryFailedQueryPipe) filter: RetryFailedFilter, @TaskActorOptions() actor: ActorOptions): Promise<RetryFailedResult> {
    return this.manager.retryFailed(filter, actor);
  }

  @Delete('history')
  @TaskRequiredRole('admin')
  deleteHistory(@Query(HistoryQueryPipe) cutoff: number, @TaskActorOptions() actor: ActorOptions): Promise<DeleteHistoryResult> {
    return this.manager.deleteHistory(cutoff, actor);
  }

  @Get(':task_id')
  async get(@Param('task_id', TaskIdPipe) id: string): Promise<TaskRecord> {
    const task = await this.manager.getTask(id);
    if (!task) throw new TaskNotFoundError(id);
    return task;
  }

  @Post(':task_id/retry')
  @TaskRequiredRole('operator')
  @HttpCode(200)
  async retry(@Param('task_id', TaskIdPipe) id: string, @TaskActorOptions() actor: ActorOptions): Promise<TaskActionResult> {
    const task = await this.manager.retry(id, actor);
    return { task_id: task.task_id, task };
  }

  @Post(':task_id/cancel')
  @TaskRequiredRole('operator')
  @HttpCode(200)
  async cancel(@Param('task_id', TaskIdPipe) id: string, @TaskActorOptions() actor: ActorOptions): Promise<TaskActionResult> {
    const task = await this.manager.cancel(id, actor);
    return { task_id: task.task_id, task };
  }
}
