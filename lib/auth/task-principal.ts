import type { IncomingMessage } from 'node:http';
import { DEFAULT_TASK_ROLE, TaskRole } from '../options/task-role';

/** Who is calling the admin API: the token's `sub` and `role`, or "anonymous" (admin) without auth. */
export interface TaskPrincipal {
  sub: string;
  role: TaskRole;
}

export const ANONYMOUS: TaskPrincipal = Object.freeze({ sub: 'anonymous', role: DEFAULT_TASK_ROLE });

const PRINCIPAL = Symbol('nestjs-taskflow:principal');

type WithPrincipal = IncomingMessage & { [PRINCIPAL]?: TaskPrincipal };

export function setPrincipal(request: IncomingMessage, principal: TaskPrincipal): void {
  (request as WithPrincipal)[PRINCIPAL] = principal;
}

export function getPrincipal(request: IncomingMessage): TaskPrincipal {
  return (request as WithPrincipal)[PRINCIPAL] ?? ANONYMOUS;
}
