import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { ActorOptions } from '../engine/add-task-options';
import { getPrincipal } from './task-principal';

/** The audit actor of the request: the token's `sub`, or "anonymous" without auth. */
export const TaskActor = createParamDecorator((_: unknown, context: ExecutionContext): string => {
  return getPrincipal(context.switchToHttp().getRequest<IncomingMessage>()).sub;
});

/** The actor and its role, as the manager's admin actions take them (`{ actor, role }`), for the audit. */
export const TaskActorOptions = createParamDecorator((_: unknown, context: ExecutionContext): ActorOptions => {
  const { sub, role } = getPrincipal(context.switchToHttp().getRequest<IncomingMessage>());
  return { actor: sub, role };
});
