import type { IncomingMessage } from 'node:http';

/** Who is calling the admin API: the token's `sub`, or "anonymous" without auth. */
export interface TaskPrincipal {
  sub: string;
}

export const ANONYMOUS: TaskPrincipal = Object.freeze({ sub: 'anonymous' });

const PRINCIPAL = Symbol('nestjs-taskflow:principal');

type WithPrincipal = IncomingMessage & { [PRINCIPAL]?: TaskPrincipal };

export function setPrincipal(request: IncomingMessage, principal: TaskPrincipal): void {
  (request as WithPrincipal)[PRINCIPAL] = principal;
}

export function getPrincipal(request: IncomingMessage): TaskPrincipal {
  return (request as WithPrincipal)[PRINCIPAL] ?? ANONYMOUS;
}
