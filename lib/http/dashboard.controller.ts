import { Get, Inject, Injectable, MessageEvent, Req, Res, ServiceUnavailableException, Sse, UseFilters } from '@nestjs/common';
import { Observable } from 'rxjs';
import type { ServerResponse } from 'node:http';
import { TaskAuthRoute } from '../auth/auth-mode.decorator';
import { TASKFLOW_OPTIONS } from '../constants';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { clientMessages, pinSseHeaders } from '../stream/sse-client';
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
   * The SSE stream (SPEC §5): the shared hub's events for this client, bounded in
   * memory, sent by Nest's `@Sse()`. Guards and the exception filter run first, so
   * auth failures are 401 JSON.
   */
  @Sse('dashboard/stream')
  @TaskAuthRoute('stream')
  stream(@Req() request: HttpRequest, @Res({ passthrough: true }) response: ServerResponse): Observable<MessageEvent> {
    if (this.hub.isClosed) throw new ServiceUnavailableException(httpMessages.streamClosed());
    const header = request.headers['last-event-id'];
    const lastEventId = typeof header === 'string' ? header : undefined;
    pinSseHeaders(response);
    request.socket?.setNoDelay(true);
    return clientMessages(this.hub.connect(lastEventId), response, this.tuning.maxClientQueueBytes);
  }
}
