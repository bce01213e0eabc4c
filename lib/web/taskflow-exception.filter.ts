import { ArgumentsHost, BadRequestException, Catch, ConflictException, HttpException, NotFoundException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { InvalidTransitionError } from '../errors/invalid-transition.error';
import { TaskArgumentError } from '../errors/task-argument.error';
import { TaskNotFoundError } from '../errors/task-not-found.error';
import { UnknownTaskError } from '../errors/unknown-task.error';
import { adaptResponse, redirect } from './http-adapter';
import { httpMessages } from './http-messages';
import { HttpRequest, requestPath } from './http-types';
import { LoginRedirectException } from './login-redirect.exception';
import { RouteNotFoundException } from './route-not-found.exception';

/**
 * The one place where the package's errors become HTTP answers:
 * not found → 404, illegal transition → 400, unregistered function → 409
 * (with the engine's own message).
 * Anything else is left as it is (an HttpException keeps its status; an
 * unexpected error stays a logged 500).
 */
export function toHttpException(error: unknown): unknown {
  if (error instanceof HttpException) return error;
  if (error instanceof TaskNotFoundError) return new NotFoundException(error.message);
  if (error instanceof InvalidTransitionError) return new BadRequestException(error.message);
  if (error instanceof UnknownTaskError) return new ConflictException(error.message);
  if (error instanceof TaskArgumentError) return new ConflictException(error.message);
  return error;
}

/** Applied to every admin controller; answers in Nest's standard `{statusCode, message, error}` body. */
@Catch()
export class TaskflowExceptionFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof LoginRedirectException) {
      const response = adaptResponse(host.switchToHttp().getResponse<unknown>());
      if (!response.raw.headersSent) redirect(response, exception.location);
      return;
    }
    if (exception instanceof RouteNotFoundException) {
      const request = host.switchToHttp().getRequest<HttpRequest>();
      return super.catch(new NotFoundException(httpMessages.routeNotFound(request.method ?? 'GET', requestPath(request))), host);
    }
    super.catch(toHttpException(exception), host);
  }
}
