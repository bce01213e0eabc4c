import { Get, Inject, Injectable, Req, Res, ServiceUnavailableException, UseFilters } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { TaskAuthRoute } from '../auth/auth-mode.decorator';
import { TASKFLOW_OPTIONS } from '../constants';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { SseWriter } from '../stream/sse-writer';
import { TaskEventHub } from '../stream/task-event-hub';
import { AdminTuning, TASKFLOW_ADMIN_TUNING } from './admin-tuning';
import { renderDashboardPlaceholder, setPageHeaders } from './html-pages';
import { httpMessages } from './http-messages';
import { HttpRequest } from './http-types';
import { TaskflowExceptionFilter } from './taskflow-exception.filter';

/** `GET {path}/dashboard` (redirects to the login page without a session) and its SSE stream (SPEC §5). */
@Injectable()
@UseFilters(TaskflowExceptionFilter)
export class DashboardController {
  constructor(
    protected readonly hub: TaskEventHub,
    @Inject(TASKFLOW_OPTIONS) protected readonly options: ResolvedTaskOptions,
    @Inject(TASKFLOW_ADMIN_TUNING) protected readonly tuning: AdminTuning,
  ) {}

  @Get('dashboard')
  @TaskAuthRoute('page')
  dashboard(@Res({ passthrough: true }) response: ServerResponse): string {
    setPageHeaders(response);
    return renderDashboardPlaceholder({ title: this.options.title, path: this.options.path, signOut: this.options.auth !== null });
  }

  /**
   * The SSE stream, written by SseWriter on the raw response rather than through
   * `@Sse()`: see SseWriter for why (exact headers, ids, bounded per-client memory).
   * Guards and the exception filter still run first, so auth failures are 401 JSON.
   */
  @Get('dashboard/stream')
  @TaskAuthRoute('stream')
  stream(@Req() request: HttpRequest, @Res() response: ServerResponse): void {
    if (this.hub.isClosed) throw new ServiceUnavailableException(httpMessages.streamClosed());
    const header = request.headers['last-event-id'];
    const lastEventId = typeof header === 'string' ? header : undefined;
    new SseWriter(request, response, this.tuning.maxClientQueueBytes).pipe(this.hub.connect(lastEventId));
  }
}
