import { Get, Injectable, Req, UseFilters } from '@nestjs/common';
import type { TaskRole } from '../options/task-role';
import { TaskflowExceptionFilter } from '../web/taskflow-exception.filter';
import { getPrincipal } from './task-principal';

/** Who the caller is, for the dashboard to show only what the role may do. */
export interface SessionInfo {
  sub: string;
  role: TaskRole;
}

/**
 * `GET {path}/auth/me` → `{sub, role}`: guarded like the API (any role), and open
 * without auth (`{sub: "anonymous", role: "admin"}`). Mounted per module instance by
 * createAdminControllers.
 */
@Injectable()
@UseFilters(TaskflowExceptionFilter)
export class TaskSessionController {
  @Get('auth/me')
  me(@Req() request: object): SessionInfo {
    const { sub, role } = getPrincipal(request);
    return { sub, role };
  }
}
