import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import { TASKFLOW_OPTIONS } from '../constants';
import { httpMessages } from '../web/http-messages';
import { HttpRequest } from '../web/http-types';
import { LoginRedirectException } from '../web/login-redirect.exception';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { TASKFLOW_AUTH_MODE, TaskAuthMode } from './auth-mode.decorator';
import { TOKEN_COOKIE, readCookie } from './cookies';
import { ANONYMOUS, TaskPrincipal, setPrincipal } from './task-principal';
import { TaskTokenService } from './task-token.service';

export interface ExtractedToken {
  token: string;
  /** Where it came from: cookie-authenticated writes are checked against cross-origin use. */
  source: 'bearer' | 'cookie';
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Protects the admin routes (SPEC §4 Auth). Exported so it can be extended: every
 * step is a protected method, as in @nestjs/throttler's guard.
 *
 * Without auth everything is open and the actor is "anonymous". With auth, a valid
 * token comes from `Authorization: Bearer` (when that header is present it alone
 * counts) or from the `taskflow_token` cookie; API routes answer 401 without one,
 * pages redirect to the login page, and a write authenticated by the cookie is
 * refused (403) when its Origin is not the request's own host.
 */
@Injectable()
export class TaskAuthGuard implements CanActivate {
  constructor(
    @Inject(TASKFLOW_OPTIONS) protected readonly options: ResolvedTaskOptions,
    protected readonly tokens: TaskTokenService,
    protected readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<HttpRequest>();
    const mode = this.getMode(context);
    if (this.isOpen(mode)) {
      setPrincipal(request, ANONYMOUS);
      return true;
    }
    const extracted = this.extractToken(request);
    const principal = extracted ? await this.verifyToken(extracted.token) : null;
    if (!extracted || !principal) return this.handleUnauthenticated(context, mode);
    if (extracted.source === 'cookie' && UNSAFE_METHODS.has(request.method ?? '') && !this.isSameOrigin(request)) {
      return this.handleCrossOrigin(context);
    }
    setPrincipal(request, principal);
    return true;
  }

  protected getMode(context: ExecutionContext): TaskAuthMode {
    return this.reflector.getAllAndOverride<TaskAuthMode | undefined>(TASKFLOW_AUTH_MODE, [context.getHandler(), context.getClass()]) ?? 'api';
  }

  /** True when the route needs no token: auth off, a public route, or the stream with `publicStream`. */
  protected isOpen(mode: TaskAuthMode): boolean {
    return this.options.auth === null || mode === 'public' || (mode === 'stream' && this.options.publicStream);
  }

  /** The bearer token when an `Authorization: Bearer` header is sent, else the session cookie. */
  protected extractToken(request: HttpRequest): ExtractedToken | null {
    const authorization = request.headers.authorization;
    if (typeof authorization === 'string' && /^bearer\s/i.test(authorization)) {
      const token = authorization.slice(7).trim();
      return token ? { token, source: 'bearer' } : null;
    }
    const [token] = readCookie(request.headers.cookie, TOKEN_COOKIE);
    return token ? { token, source: 'cookie' } : null;
  }

  protected verifyToken(token: string): Promise<TaskPrincipal | null> {
    return this.tokens.verify(token);
  }

  /**
   * An `Origin` matches when its host and port are the request's `Host` (express's
   * `req.host`, so X-Forwarded-Host counts behind a trusted proxy). A Host without a
   * port matches the default port of the Origin's scheme, so a TLS-terminating proxy
   * that forwards plain HTTP still works. No Origin (non-browser clients) passes.
   */
  protected isSameOrigin(request: HttpRequest): boolean {
    const origin = request.headers.origin;
    if (origin === undefined) return true;
    const host = typeof request.host === 'string' && request.host ? request.host : request.headers.host;
    if (typeof origin !== 'string' || typeof host !== 'string' || host === '') return false;
    const from = parseOrigin(origin);
    const to = parseHost(host);
    if (!from || !to || from.hostname !== to.hostname) return false;
    if (to.port !== null) return from.port === to.port;
    return from.port === (from.protocol === 'https:' ? '443' : '80');
  }

  protected handleUnauthenticated(context: ExecutionContext, mode: TaskAuthMode): never {
    if (mode === 'page') throw new LoginRedirectException(`${this.options.path}/auth/login`);
    context.switchToHttp().getResponse<ServerResponse>().setHeader('WWW-Authenticate', 'Bearer realm="nestjs-taskflow"');
    throw new UnauthorizedException(httpMessages.unauthenticated(this.options.path));
  }

  protected handleCrossOrigin(_context: ExecutionContext): never {
    throw new ForbiddenException(httpMessages.crossOrigin());
  }
}

function parseOrigin(origin: string): { protocol: string; hostname: string; port: string } | null {
  if (origin === 'null') return null;
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return { protocol: url.protocol, hostname: url.hostname, port: url.port || (url.protocol === 'https:' ? '443' : '80') };
  } catch {
    return null;
  }
}

function parseHost(host: string): { hostname: string; port: string | null } | null {
  try {
    const url = new URL(`http://${host}`);
    if (url.pathname !== '/' || url.username || url.search) return null;
    const explicit = /:(\d+)$/.test(host) && !host.endsWith(']');
    return { hostname: url.hostname, port: explicit ? url.port || '80' : null };
  } catch {
    return null;
  }
}
