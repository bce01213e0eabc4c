import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { ActorOptions } from '../engine/add-task-options';
import { ANONYMOUS, getPrincipal } from './task-principal';

/** The audit actor of the request: the token's `sub`, or "anonymous" without auth. */
export const TaskActor = createParamDecorator((_: unknown, context: ExecutionContext): string => {
  return getPrincipal(context.switchToHttp().getRequest<object>()).sub;
});

/**
 * The actor and its role, as the manager's admin actions take them (`{ actor, role }`),
 * for the audit. Without auth there is no role to record: just "anonymous".
 */
export const TaskActorOptions = createParamDecorator((_: unknown, context: ExecutionContext): ActorOptions => {
  const principal = getPrincipal(context.switchToHttp().getRequest<object>());
  return principal === ANONYMOUS ? { actor: principal.sub } : { actor: principal.sub, role: principal.role };
});
