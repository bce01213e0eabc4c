/** DI token of the resolved options (`ResolvedTaskOptions`). */
export const TASKFLOW_OPTIONS = Symbol('TASKFLOW_OPTIONS');
/** DI token of the raw options given to forRoot/forRootAsync. */
export const TASKFLOW_RAW_OPTIONS = Symbol('TASKFLOW_RAW_OPTIONS');
export const BACKGROUND_TASK_METADATA = 'nestjs-taskflow:background-task';
export const SCHEDULED_TASK_METADATA = 'nestjs-taskflow:scheduled-task';
export const LOGGER_CONTEXT = 'Taskflow';
