import { SetMetadata } from '@nestjs/common';

export const TASKFLOW_AUTH_MODE = 'nestjs-taskflow:auth-mode';

/**
 * How TaskAuthGuard treats a route without a valid token:
 * - `api`: 401 (the default);
 * - `page`: 302 to the login page;
 * - `stream`: 401, or open when `publicStream` is set;
 * - `public`: always open.
 */
export type TaskAuthMode = 'api' | 'page' | 'stream' | 'public';

export const TaskAuthRoute = (mode: TaskAuthMode) => SetMetadata(TASKFLOW_AUTH_MODE, mode);
