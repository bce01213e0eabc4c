import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { TASKFLOW_OPTIONS } from '../constants';
import { adaptResponse } from '../web/http-adapter';
import { HttpRequest } from '../web/http-types';
import { LoginRedirectException } from '../web/login-redirect.exception';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { TaskRole, roleSatisfies } from '../options/task-role';
import { authMessages } from './auth-messages';
import { TASKFLOW_AUTH_MODE, TaskAuthMode } from './auth-mode.decorator';
import { ExtractedToken, requestToken } from './request-token';
import { isSameOrigin } from './same-origin';
import { TASKFLOW_REQUIRED_ROLE } from './task-role.decorator';
import { ANONYMOUS, TaskPrincipal, setPrincipal } from './task-principal';
import { TaskTokenService } from './task-token.service';

export type { ExtractedToken } from './request-token';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Protects the admin routes. Exported so it can be extended: every
 * step is a protected method, as in @nestjs/throttler's guard.
 *
 * Without auth everything is open and the actor is "anonymous". With auth, a valid
 * token comes from `Authorization: Bearer` (when that header is present it alone
 * counts) or from the `taskflow_token` cookie; API routes answer 401 without one,
 * pages redirect to the login page, a write authenticated by the cookie is
 * refused (403) when its Origin (or Referer) is not the request's own origin, and
 * a route the token's role may not use answers 403.
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
    const required = this.getRequiredRole(context);
    if (!roleSatisfies(principal.role, required)) return this.handleForbiddenRole(context, principal, required);
    setPrincipal(request, principal);
    return true;
  }

  /** The route's `@TaskRequiredRole`, else `viewer` for reads and `admin` for anything else. */
  protected getRequiredRole(context: ExecutionContext): TaskRole {
    const declared = this.reflector.getAllAndOverride<TaskRole | undefined>(TASKFLOW_REQUIRED_ROLE, [context.getHandler(), context.getClass()]);
    if (declared) return declared;
    const method = context.switchToHttp().getRequest<HttpRequest>().method ?? 'GET';
    return READ_METHODS.has(method) ? 'viewer' : 'admin';
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
    return requestToken(request);
  }

  protected verifyToken(token: string): Promise<TaskPrincipal | null> {
    return this.tokens.verify(token);
  }

  /** Scheme, host and port of the `Origin` (else `Referer`) equal the request's own; neither header passes. */
  protected isSameOrigin(request: HttpRequest): boolean {
    return isSameOrigin(request);
  }

  protected handleUnauthenticated(context: ExecutionContext, mode: TaskAuthMode): never {
    if (mode === 'page') throw new LoginRedirectException(`${this.options.path}/auth/login`);
    adaptResponse(context.switchToHttp().getResponse<unknown>()).setHeader('WWW-Authenticate', 'Bearer realm="nestjs-taskflow"');
    throw new UnauthorizedException(authMessages.unauthenticated(this.options.path));
  }

  protected handleCrossOrigin(_context: ExecutionContext): never {
    throw new ForbiddenException(authMessages.crossOrigin());
  }

  protected handleForbiddenRole(_context: ExecutionContext, principal: TaskPrincipal, required: TaskRole): never {
    throw new ForbiddenException(authMessages.roleRequired(required, principal.role));
  }
}
