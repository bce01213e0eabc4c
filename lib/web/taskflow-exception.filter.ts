import {
  ArgumentsHost,
  BadRequestException,
  Catch,
  ConflictException,
  HttpException,
  NotFoundException,
} from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import { InvalidTransitionError } from '../errors/invalid-transition.error';
import { TaskArgumentError } from '../errors/task-argument.error';
import { TaskNotFoundError } from '../errors/task-not-found.error';
import { UnknownTaskError } from '../errors/unknown-task.error';
import { httpMessages } from './http-messages';
import { LoginRedirectException } from './login-redirect.exception';

/**
 * The one place where the package's errors become HTTP answers:
 * not found → 404, illegal transition → 400, unregistered function → 409.
 * Anything else is left as it is (an HttpException keeps its status; an
 * unexpected error stays a logged 500).
 */
export function toHttpException(error: unknown): unknown {
  if (error instanceof HttpException) return error;
  if (error instanceof TaskNotFoundError) return new NotFoundException(error.message);
  if (error instanceof InvalidTransitionError) return new BadRequestException(error.message);
  if (error instanceof UnknownTaskError) return new ConflictException(httpMessages.unregisteredOnRetry(error.funcName));
  if (error instanceof TaskArgumentError) return new ConflictException(error.message);
  return error;
}

/** Applied to every admin controller; answers in Nest's standard `{statusCode, message, error}` body. */
@Catch()
export class TaskflowExceptionFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof LoginRedirectException) {
      const response = host.switchToHttp().getResponse<ServerResponse>();
      if (!response.headersSent) {
        response.statusCode = 302;
        response.setHeader('Location', exception.location);
        response.setHeader('Cache-Control', 'no-store');
        response.end();
      }
      return;
    }
    super.catch(toHttpException(exception), host);
  }
}
