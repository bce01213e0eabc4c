import { DEFAULT_TASK_ROLE, TaskRole } from '../options/task-role';

/** Who is calling the admin API: the token's `sub` and `role`, or "anonymous" (admin) without auth. */
export interface TaskPrincipal {
  sub: string;
  role: TaskRole;
}

export const ANONYMOUS: TaskPrincipal = Object.freeze({ sub: 'anonymous', role: DEFAULT_TASK_ROLE });

const PRINCIPAL = Symbol('nestjs-taskflow:principal');

/** The principal is kept on the request object the platform hands to guards and routes (express's or Fastify's). */
type WithPrincipal = object & { [PRINCIPAL]?: TaskPrincipal };

export function setPrincipal(request: object, principal: TaskPrincipal): void {
  (request as WithPrincipal)[PRINCIPAL] = principal;
}

export function getPrincipal(request: object): TaskPrincipal {
  return (request as WithPrincipal)[PRINCIPAL] ?? ANONYMOUS;
}
