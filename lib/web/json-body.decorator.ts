import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import { HttpRequest, hasContentType } from './http-types';

/**
 * The request body when it was sent as `application/json`, else undefined: a
 * body a cross-site form can send (urlencoded, text/plain) never reaches the
 * pipe as data. Takes pipes like `@Body()`: `@JsonBody(BulkRetryBodyPipe)`.
 */
export const JsonBody = createParamDecorator((_data: unknown, context: ExecutionContext): unknown => {
  const request = context.switchToHttp().getRequest<HttpRequest>();
  return hasContentType(request, 'application/json') ? request.body : undefined;
});
