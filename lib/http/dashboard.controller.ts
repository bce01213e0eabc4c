import {
  Get,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  Logger,
  MessageEvent,
  NotFoundException,
  OnModuleInit,
  Param,
  Query,
  Req,
  Res,
  ServiceUnavailableException,
  Sse,
  UseFilters,
} from '@nestjs/common';
import { Observable, finalize } from 'rxjs';
import { TaskAuthRoute } from '../auth/auth-mode.decorator';
import { clientAddress } from '../auth/client-address';
import { LOGGER_CONTEXT, TASKFLOW_OPTIONS } from '../constants';
import { DashboardBundle, dashboardAssets, pickEncoding } from '../dashboard/dashboard-assets';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { clientMessages } from '../stream/sse-client';
import { SendTurns } from '../stream/send-turns';
import { coalesceWritesPerTurn, pinSseHeaders } from '../stream/sse-response';
import { StreamSlots } from '../stream/stream-slots';
import type { StreamView } from '../stream/stream-view';
import { TaskEventHub } from '../stream/task-event-hub';
import { AdminTuning, TASKFLOW_ADMIN_TUNING } from '../options/admin-tuning';
import { renderDashboardPage, setDashboardHeaders } from '../web/html-pages';
import { adaptResponse } from '../web/http-adapter';
import { httpMessages } from '../web/http-messages';
import { StreamViewPipe } from '../web/pipes/stream-view.pipe';
import { HttpRequest, requestPath } from '../web/http-types';
import { TaskflowExceptionFilter } from '../web/taskflow-exception.filter';

/**
 * `GET {path}/dashboard` (redirects to the login page without a session), its static
 * files under `{path}/dashboard/assets/` (public, content-hashed, cached for a year)
 * and its SSE stream.
 */
@Injectable()
@UseFilters(TaskflowExceptionFilter)
export class DashboardController implements OnModuleInit {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private bundle: DashboardBundle | null = null;
  private page: string | null = null;
  private readonly streamSlots: StreamSlots;
  /** The turns in which every stream hands its waiting events to Nest. */
  private readonly sendTurns: SendTurns;

  constructor(
    protected readonly hub: TaskEventHub,
    @Inject(TASKFLOW_OPTIONS) protected readonly options: ResolvedTaskOptions,
    @Inject(TASKFLOW_ADMIN_TUNING) protected readonly tuning: AdminTuning,
  ) {
    this.streamSlots = new StreamSlots(options.maxStreams, options.maxStreamsPerAddress);
    this.sendTurns = new SendTurns(tuning.streamTurnBytes, tuning.streamPageBytes);
  }

  /** Reads the files once at startup; a broken install is reported here, not on each request. */
  onModuleInit(): void {
    try {
      this.assets();
    } catch (error) {
      this.logger.error(error instanceof Error ? error.message : String(error));
    }
  }

  @Get('dashboard')
  @TaskAuthRoute('page')
  dashboard(@Res({ passthrough: true }) reply: unknown): string {
    const bundle = this.assets();
    setDashboardHeaders(adaptResponse(reply));
    this.page ??= renderDashboardPage(
      {
        title: this.options.title,
        path: this.options.path,
        auth: this.options.auth !== null,
        pollInterval: this.options.pollInterval,
        displayFuncArgs: this.options.displayFuncArgs,
      },
      bundle,
    );
    return this.page;
  }

  /**
   * `GET {path}/dashboard/assets/<name>.<hash>.<ext>`: no session needed (the login
   * page uses none, and they hold no data), compressed when the client accepts it.
   */
  @Get('dashboard/assets/:file')
  @TaskAuthRoute('public')
  asset(@Param('file') file: string, @Req() request: HttpRequest, @Res() reply: unknown): void {
    const asset = this.assets().assets.get(String(file));
    if (!asset) throw new NotFoundException(httpMessages.routeNotFound(request.method ?? 'GET', requestPath(request)));
    const response = adaptResponse(reply);
    response.setHeader('Content-Type', asset.contentType);
    response.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    response.setHeader('ETag', asset.etag);
    response.setHeader('Vary', 'Accept-Encoding');
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    if (request.headers['if-none-match'] === asset.etag) return response.send(304);
    const encoding = pickEncoding(request.headers['accept-encoding']);
    const body = encoding === 'br' ? asset.brotli : encoding === 'gzip' ? asset.gzip : asset.body;
    if (encoding) response.setHeader('Content-Encoding', encoding);
    response.setHeader('Content-Length', String(body.length));
    response.send(200, body);
  }

  /**
   * The SSE stream: the shared hub's events for this client, bounded in
   * memory, sent by Nest's `@Sse()`. Guards and the exception filter run first, so
   * auth failures are 401 JSON. Streams open at once are capped per client address
   * (429) and in total (503); the refusal is thrown before any SSE header is sent.
   * With a view in the query (a dashboard page), the stream carries that view only.
   */
  @Sse('dashboard/stream')
  @TaskAuthRoute('stream')
  stream(
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) reply: unknown,
    @Query(StreamViewPipe) view: StreamView | null,
  ): Observable<MessageEvent> {
    if (this.hub.isClosed) throw new ServiceUnavailableException(httpMessages.streamClosed());
    // The login throttle's address: X-Forwarded-For counts only behind a hop count or list of trusted proxies.
    const slot = this.streamSlots.acquire(clientAddress(request));
    if (slot === 'address') {
      const message = httpMessages.tooManyStreams(this.options.maxStreamsPerAddress);
      throw new HttpException({ statusCode: HttpStatus.TOO_MANY_REQUESTS, message, error: 'Too Many Requests' }, HttpStatus.TOO_MANY_REQUESTS);
    }
    if (slot === 'total') throw new ServiceUnavailableException(httpMessages.streamsFull());
    // Nest writes the stream to Node's response on both platforms: the hooks below work on that one.
    const response = adaptResponse(reply).raw;
    // Nest leaves the stream unsubscribed when the client left during setup: the socket's close gives the slot back then.
    response.once('close', slot);
    if (response.destroyed || request.socket?.destroyed) slot();
    const header = request.headers['last-event-id'];
    const lastEventId = typeof header === 'string' ? header : undefined;
    pinSseHeaders(response);
    // Room for a whole page per turn before the response counts as backed up.
    const pressure = coalesceWritesPerTurn(response, this.tuning.streamPageBytes);
    request.socket?.setNoDelay(true);
    const bounds = { maxQueuedBytes: this.tuning.maxClientQueueBytes, plain: view === null };
    return clientMessages(this.hub.connect(lastEventId, view ?? undefined), response, pressure, bounds, this.sendTurns).pipe(finalize(slot));
  }

  private assets(): DashboardBundle {
    this.bundle ??= dashboardAssets();
    return this.bundle;
  }
}
