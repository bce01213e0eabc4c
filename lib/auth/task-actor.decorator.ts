import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { getPrincipal } from './task-principal';

/** The audit actor of the request: the token's `sub`, or "anonymous" without auth. */
export const TaskActor = createParamDecorator((_: unknown, context: ExecutionContext): string => {
  return getPrincipal(context.switchToHttp().getRequest<IncomingMessage>()).sub;
});
