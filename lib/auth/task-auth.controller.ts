import {
  BadRequestException,
  Get,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  Post,
  Req,
  Res,
  ServiceUnavailableException,
  UnauthorizedException,
  UseFilters,
} from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { LOGGER_CONTEXT, TASKFLOW_OPTIONS } from '../constants';
import { renderLoginPage, setPageHeaders } from '../web/html-pages';
import { httpMessages } from '../web/http-messages';
import { HttpRequest, hasContentType, requestPath } from '../web/http-types';
import { parseLoginBody } from '../web/pipes/login-body.pipe';
import { TaskflowExceptionFilter } from '../web/taskflow-exception.filter';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { TaskAuthBackend } from '../options/task-auth-backend';
import { LoginThrottle } from './login-throttle';
import { clearedTokenCookie, tokenCookie } from './cookies';
import { TaskTokenService } from './task-token.service';

/** Answer body of a JSON login (SPEC §4). */
export interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
}

/**
 * `{path}/auth/login` (page, form and JSON sign-in) and `{path}/auth/logout`.
 * Without auth these routes answer 404. The `@Controller(path)` is applied per
 * module instance by createAdminControllers; this controller has no guard.
 */
@Injectable()
@UseFilters(TaskflowExceptionFilter)
export class TaskAuthController {
  private readonly logger = new Logger(LOGGER_CONTEXT);

  constructor(
    @Inject(TASKFLOW_OPTIONS) protected readonly options: ResolvedTaskOptions,
    protected readonly tokens: TaskTokenService,
    protected readonly throttle: LoginThrottle,
  ) {}

  @Get('auth/login')
  loginPage(@Req() request: HttpRequest, @Res() response: ServerResponse): void {
    this.requireAuth(request);
    this.sendPage(response, 200);
  }

  @Post('auth/login')
  async login(@Req() request: HttpRequest, @Res() response: ServerResponse): Promise<void> {
    const backend = this.requireAuth(request);
    const form = hasContentType(request, 'application/x-www-form-urlencoded');
    if (!form && !hasContentType(request, 'application/json')) throw new BadRequestException(httpMessages.loginBody());
    const input = parseLoginBody(request.body);
    if ('error' in input) {
      if (form) return this.sendPage(response, 400, httpMessages.loginMissing());
      throw new BadRequestException(input.error);
    }

    const key = LoginThrottle.key(request.ip ?? request.socket.remoteAddress ?? 'unknown', input.username);
    const wait = this.throttle.retryAfter(key);
    if (wait > 0) {
      response.setHeader('Retry-After', String(wait));
      if (form) return this.sendPage(response, 429, httpMessages.loginThrottled(wait), input.username);
      throw new HttpException(
        { statusCode: 429, message: httpMessages.loginThrottled(wait), error: 'Too Many Requests' },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }

    if (!(await this.authenticate(backend, input.username, input.password))) {
      this.throttle.fail(key);
      if (form) return this.sendPage(response, 401, httpMessages.loginFailed(), input.username);
      throw new UnauthorizedException(httpMessages.loginFailed());
    }
    this.throttle.succeed(key);

    const { token, expiresIn } = await this.tokens.issue(input.username);
    response.setHeader('Cache-Control', 'no-store');
    if (form) {
      response.setHeader('Set-Cookie', tokenCookie(token, { path: this.options.path, maxAgeSeconds: expiresIn, secure: request.secure === true }));
      response.statusCode = 302;
      response.setHeader('Location', `${this.options.path}/dashboard`);
      response.end();
      return;
    }
    const body: TokenResponse = { access_token: token, token_type: 'bearer', expires_in: expiresIn };
    response.statusCode = 200;
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    response.end(JSON.stringify(body));
  }

  /** GET (the link on the dashboard) and POST: clears the cookie and goes to the login page. */
  @Get('auth/logout')
  logout(@Req() request: HttpRequest, @Res() response: ServerResponse): void {
    this.logoutAndRedirect(request, response);
  }

  @Post('auth/logout')
  logoutPost(@Req() request: HttpRequest, @Res() response: ServerResponse): void {
    this.logoutAndRedirect(request, response);
  }

  /** Runs the backend; one that throws is logged (never with the password) and answers 503. */
  protected async authenticate(backend: TaskAuthBackend, username: string, password: string): Promise<boolean> {
    try {
      return (await backend.authenticateUser(username, password)) === true;
    } catch (error) {
      this.logger.error(`The TaskAuthBackend threw while signing in a user: ${error instanceof Error ? error.message : String(error)}`);
      throw new ServiceUnavailableException(httpMessages.authBackendFailed());
    }
  }

  private logoutAndRedirect(request: HttpRequest, response: ServerResponse): void {
    this.requireAuth(request);
    response.setHeader('Set-Cookie', clearedTokenCookie(this.options.path, request.secure === true));
    response.setHeader('Cache-Control', 'no-store');
    response.statusCode = 302;
    response.setHeader('Location', `${this.options.path}/auth/login`);
    response.end();
  }

  private requireAuth(request: HttpRequest): TaskAuthBackend {
    if (this.options.auth === null) {
      throw new NotFoundException(httpMessages.routeNotFound(request.method ?? 'GET', requestPath(request)));
    }
    return this.options.auth;
  }

  private sendPage(response: ServerResponse, status: number, error?: string, username?: string): void {
    setPageHeaders(response);
    response.statusCode = status;
    response.end(renderLoginPage({ title: this.options.title, action: `${this.options.path}/auth/login`, error, username }));
  }
}
