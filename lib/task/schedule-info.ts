import { TaskStatus } from './task-status';

/** One row of GET {path}/schedules. */
export interface ScheduleInfo {
  func_name: string;
  trigger: string;
  next_run: string | null;
  last_run: string | null;
  last_status: TaskStatus | null;
  last_task_id: string | null;
}
