// Public API of nestjs-taskflow: everything users import comes from here.
export { TaskAdminModule } from './module/task-admin.module';
export { TaskManagerModule } from './module/task-manager.module';
export { TaskManager, RegisteredTaskInfo, PauseState } from './engine/task-manager.service';
export { TaskflowInterceptor } from './engine/taskflow.interceptor';
export { AddTaskOptions, ActorOptions, EnqueueOptions } from './engine/add-task-options';
export { BackgroundTask, BackgroundTaskOptions } from './decorators/background-task.decorator';
export { ScheduledTask, ScheduledTaskOptions } from './decorators/scheduled-task.decorator';
export { TaskScheduler } from './schedule/task-scheduler.service';
export { taskLog, getTaskContext, reportProgress, TaskContext, TaskLogOptions } from './engine/task-context';
export {
  TaskAdminOptions,
  TaskManagerOptions,
  TaskAdminAsyncOptions,
  TaskManagerAsyncOptions,
  TaskOptionsFactory,
  TaskAuthCredentials,
  TaskWorkersOptions,
} from './options/task-options.interface';
export { TaskAuthBackend, TaskAuthResult, TaskCredentialPair } from './options/task-auth-backend';
export { TaskRole, TASK_ROLES } from './options/task-role';
export { TaskAuthGuard, ExtractedToken } from './auth/task-auth.guard';
export { TaskPrincipal } from './auth/task-principal';
export { TaskTokenService } from './auth/task-token.service';
export { TaskAuthRoute, TaskAuthMode } from './auth/auth-mode.decorator';
export { TaskActor, TaskActorOptions } from './auth/task-actor.decorator';
export { TaskRequiredRole } from './auth/task-role.decorator';
export { SessionInfo } from './auth/task-session.controller';
export { TaskObserver, TaskLogEvent, TaskLifecycleEvent, TaskLogLevel } from './observers/task-observer';
export { FileLogger, FileLoggerOptions } from './observers/file-logger';
export { StdoutLogger, StdoutLoggerOptions } from './observers/stdout-logger';
export { InMemoryLogger, InMemoryLoggerOptions } from './observers/in-memory-logger';
export { TaskBackend } from './storage/task-backend';
export {
  TaskflowHealthIndicator,
  TaskflowHealthOptions,
  TaskflowHealthDetails,
  TaskflowHealthResult,
} from './integrations/health/taskflow-health.indicator';
export { PrometheusRegistry, TaskflowPrometheusOptions } from './options/prometheus-options';
export { addTaskflowToDocument, AddTaskflowToDocumentOptions, OpenApiDocumentLike } from './integrations/openapi/swagger-document';
export { TypeOrmTaskBackend, TypeOrmTaskBackendOptions, sqliteOptions } from './persistence/typeorm';
export { TaskRecord, TaskSource, TaskData } from './task/task-record';
export { TaskAttempt, TaskAttemptRecord, TruncatedResult, MAX_RESULT_CHARS } from './task/task-attempt';
export { TaskStatus, TASK_STATUSES } from './task/task-status';
export { TaskQuery, TaskPage } from './task/task-query';
export { TaskMetrics, FunctionMetrics } from './task/task-metrics';
export { AuditEntry, AuditAction } from './task/audit-entry';
export { BulkRetryResult, DeleteHistoryResult, RETRY_FAILED_MAX_PER_CALL, RetryFailedResult } from './task/bulk-retry-result';
export { ScheduleInfo } from './task/schedule-info';
export { InvalidOptionError } from './errors/invalid-option.error';
export { TaskDefinitionError } from './errors/task-definition.error';
export { TaskNotFoundError } from './errors/task-not-found.error';
export { UnknownTaskError } from './errors/unknown-task.error';
export { InvalidTransitionError } from './errors/invalid-transition.error';
export { TaskArgumentError } from './errors/task-argument.error';
export { TaskTimeoutError } from './errors/task-timeout.error';
export { NonRetryableError } from './errors/non-retryable.error';
export { EnqueueTimeoutError } from './errors/enqueue-timeout.error';
export { ArgsDecryptionError } from './errors/args-decryption.error';
export { WorkerCrashedError } from './errors/worker-crashed.error';
