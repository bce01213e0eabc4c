import { SetMetadata } from '@nestjs/common';
import type { TaskRole } from '../options/task-role';

export const TASKFLOW_REQUIRED_ROLE = 'nestjs-taskflow:required-role';

/**
 * The least role a route needs. Without it, TaskAuthGuard asks `viewer` for GET and
 * HEAD and `admin` for every other method, so a new write route is closed until
 * someone decides who may use it.
 */
export const TaskRequiredRole = (role: TaskRole) => SetMetadata(TASKFLOW_REQUIRED_ROLE, role);
