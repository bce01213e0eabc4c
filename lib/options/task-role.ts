/**
 * What a signed-in user may do, from least to most:
 * - `viewer`: read routes, the stream and the dashboard;
 * - `operator`: also retry, cancel, bulk-retry, retry-failed, pause and resume;
 * - `admin`: everything, also deleting history.
 */
export type TaskRole = 'viewer' | 'operator' | 'admin';

/** Every role, least privileged first. */
export const TASK_ROLES: readonly TaskRole[] = ['viewer', 'operator', 'admin'];

/** The role of a user whose credentials name none. */
export const DEFAULT_TASK_ROLE: TaskRole = 'admin';

export function isTaskRole(value: unknown): value is TaskRole {
  return typeof value === 'string' && (TASK_ROLES as readonly string[]).includes(value);
}

/** True when `role` may do what `required` may do. */
export function roleSatisfies(role: TaskRole, required: TaskRole): boolean {
  return TASK_ROLES.indexOf(role) >= TASK_ROLES.indexOf(required);
}
