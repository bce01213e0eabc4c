import { ScheduleInfo } from '../task/schedule-info';

/**
 * DI token of what TaskManager.schedules() reads (the TaskScheduler, by useExisting).
 * TaskManager looks it up lazily through ModuleRef: the scheduler depends on the
 * manager, so a constructor injection would be a cycle.
 */
export const SCHEDULE_SOURCE = Symbol('TASKFLOW_SCHEDULE_SOURCE');

export interface ScheduleSource {
  list(): Promise<ScheduleInfo[]>;
}
