import { Provider } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TASKFLOW_OPTIONS, TASKFLOW_RAW_OPTIONS } from '../constants';
import { TaskExplorer } from '../discovery/task.explorer';
import { TaskRegistry } from '../discovery/task.registry';
import { TaskLifecycle } from '../persistence/task-lifecycle.service';
import { TaskInsights } from '../engine/task-insights.service';
import { TaskInstances } from '../engine/task-instances.service';
import { TaskManager } from '../engine/task-manager.service';
import { TaskRuntime } from '../engine/task-runtime';
import { TaskStorage } from '../engine/task-storage';
import { TaskflowInterceptor } from '../engine/taskflow.interceptor';
import { InvalidOptionError } from '../errors/invalid-option.error';
import { ResolvedTaskOptions, resolveOptions, resolvePath } from '../options/resolve-options';
import { MemoryTaskStore } from '../storage/memory-task.store';
import { TaskBackend } from '../storage/task-backend';
import { createBackend } from '../persistence/create-backend';
import { RetentionService } from '../persistence/retention.service';
import { TaskPersistence } from '../persistence/task-persistence.service';
import { ScheduleExplorer } from '../schedule/schedule.explorer';
import { SCHEDULE_SOURCE } from '../engine/schedule-source';
import { TaskScheduler } from '../schedule/task-scheduler.service';
import { SchedulerRegistry } from '@nestjs/schedule';
import { WORKER_EXECUTOR } from '../engine/task-executor';
import { WorkerExecutor } from '../executors/worker-executor';
import { isTaskWorkerThread } from '../executors/worker-thread';
import { TaskMetricsExporter } from '../integrations/prometheus/task-metrics-exporter';
import { TaskflowHealthIndicator } from '../integrations/health/taskflow-health.indicator';
import { ATTEMPT_TRACER } from '../engine/attempt-tracer';
import { createAttemptTracer } from '../integrations/opentelemetry/create-attempt-tracer';
import { assertOneNestCore } from './nest-core-copies';
import { TaskAdminOptions, TaskModuleAsyncOptions, TaskOptionsFactory } from '../options/task-options.interface';

const NEST_CORE_CHECK = Symbol('TASKFLOW_NEST_CORE_CHECK');

/** Providers shared by both modules: storage, the engine, discovery and lifecycle. */
const ALL_CORE_PROVIDERS: Provider[] = [
  // First, and with nothing to inject: it fails before the providers that inject Nest's classes would, with a message that says why.
  { provide: NEST_CORE_CHECK, useFactory: () => assertOneNestCore() },
  TaskRegistry,
  TaskExplorer,
  // The records in memory: the runtime's live and recent tasks, and the memory backend's whole history.
  { provide: MemoryTaskStore, useFactory: (options: ResolvedTaskOptions) => new MemoryTaskStore(options.maxInMemory), inject: [TASKFLOW_OPTIONS] },
  // The storage token: override it (overrideProvider(TaskBackend)) or set the `backend` option to use your own.
  { provide: TaskBackend, useFactory: createBackend, inject: [TASKFLOW_OPTIONS, MemoryTaskStore] },
  TaskStorage,
  TaskRuntime,
  TaskManager,
  TaskInsights,
  TaskInstances,
  TaskPersistence,
  TaskLifecycle,
  // A registry of our own: importing ScheduleModule.forRoot() here would run the app's @Cron jobs twice.
  SchedulerRegistry,
  RetentionService,
  TaskScheduler,
  ScheduleExplorer,
  { provide: SCHEDULE_SOURCE, useExisting: TaskScheduler },
  { provide: WORKER_EXECUTOR, useClass: WorkerExecutor },
  // A span per attempt when @opentelemetry/api is installed (and a tracer provider registered); null otherwise.
  { provide: ATTEMPT_TRACER, useFactory: createAttemptTracer },
  // Does nothing unless the `prometheus` option is set.
  TaskMetricsExporter,
  TaskflowHealthIndicator,
];

/**
 * Inside a task worker thread the package is inert: the registry (to find the task), the
 * manager (so constructors that inject it resolve) and memory storage, but no lifecycle,
 * database, observers, retention, schedules or worker pool of its own.
 */
const STARTS_SOMETHING = new Set<Provider>([TaskLifecycle, RetentionService, ScheduleExplorer, TaskPersistence, TaskMetricsExporter]);

export const CORE_PROVIDERS: Provider[] = isTaskWorkerThread()
  ? ALL_CORE_PROVIDERS.filter((p) => !STARTS_SOMETHING.has(p) && !(typeof p === 'object' && 'provide' in p && p.provide === WORKER_EXECUTOR))
  : ALL_CORE_PROVIDERS;

// TaskStorage: an admin surface mounted in a module of the app's own (createAdminControllers) keeps its sign-outs there.
export const CORE_EXPORTS = [
  TaskManager,
  TaskInsights,
  TaskInstances,
  TaskRegistry,
  TaskScheduler,
  TaskStorage,
  TaskflowHealthIndicator,
  TASKFLOW_OPTIONS,
];

/**
 * `autoInstall` registers TaskflowInterceptor for every route. Only then: a global
 * interceptor, even one that passes through, costs every request of the host app.
 */
export function autoInstallProviders(autoInstall: boolean | undefined): Provider[] {
  return autoInstall && !isTaskWorkerThread() ? [{ provide: APP_INTERCEPTOR, useClass: TaskflowInterceptor }] : [];
}

/** The resolved-options provider for forRoot. */
export function syncOptionsProvider(options: TaskAdminOptions, kind: 'admin' | 'manager'): Provider {
  const resolved = resolveOptions(options, kind);
  return { provide: TASKFLOW_OPTIONS, useValue: inertInWorker(resolved) };
}

/** Raw-options providers for forRootAsync, plus the resolved-options provider merging `path`. */
export function asyncOptionsProviders<T extends object>(
  async: TaskModuleAsyncOptions<T>,
  kind: 'admin' | 'manager',
  routeOptions: { path?: string; autoInstall?: boolean },
): Provider[] {
  const providers: Provider[] = [
    {
      provide: TASKFLOW_OPTIONS,
      useFactory: (raw: T) => {
        const fromFactory = (raw ?? {}) as TaskAdminOptions;
        if (fromFactory.autoInstall !== undefined && fromFactory.autoInstall !== (routeOptions.autoInstall ?? false)) {
          throw new InvalidOptionError(
            'autoInstall',
            'given to forRootAsync beside `path`, not by the factory (it decides a global interceptor)',
            fromFactory.autoInstall,
          );
        }
        // The routes are mounted before any factory runs: a `path` from the factory would be silently ignored.
        if (fromFactory.path !== undefined && (kind === 'manager' || !samePath(fromFactory.path, routeOptions.path))) {
          throw new InvalidOptionError(
            'path',
            kind === 'manager'
              ? 'nothing: TaskManagerModule mounts no routes'
              : 'given to forRootAsync beside the factory (TaskAdminModule.forRootAsync({ path, useFactory })), not by the factory: the routes are mounted before it runs',
            fromFactory.path,
          );
        }
        return inertInWorker(resolveOptions({ ...fromFactory, ...definedOnly(routeOptions) } as TaskAdminOptions, kind));
      },
      inject: [TASKFLOW_RAW_OPTIONS],
    },
  ];
  if (async.useFactory) {
    providers.push({ provide: TASKFLOW_RAW_OPTIONS, useFactory: async.useFactory, inject: async.inject ?? [] });
  } else if (async.useClass || async.useExisting) {
    const factoryClass = (async.useClass ?? async.useExisting)!;
    providers.push({
      provide: TASKFLOW_RAW_OPTIONS,
      useFactory: (factory: TaskOptionsFactory<T>) => factory.createTaskOptions(),
      inject: [factoryClass],
    });
    if (async.useClass) providers.push({ provide: async.useClass, useClass: async.useClass });
  } else {
    throw new Error('nestjs-taskflow: forRootAsync needs one of useFactory, useClass or useExisting');
  }
  return providers;
}

/** In a task worker thread: memory storage, no observers (no log files), no retention, no pool, no auth (no routes). */
function inertInWorker(resolved: ResolvedTaskOptions): ResolvedTaskOptions {
  if (!isTaskWorkerThread()) return resolved;
  return {
    ...resolved,
    auth: null,
    snapshotDb: null,
    database: null,
    backend: null,
    loggers: [],
    logFile: null,
    retentionDays: null,
    requeuePending: false,
    workers: null,
    prometheus: null,
  };
}

function samePath(fromFactory: unknown, mounted: string | undefined): boolean {
  try {
    return resolvePath(fromFactory) === (mounted ?? resolvePath());
  } catch {
    return false;
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
