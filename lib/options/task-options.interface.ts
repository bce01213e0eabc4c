import type { ModuleMetadata, Type, InjectionToken, OptionalFactoryDependency } from '@nestjs/common';
import type { ResourceLimits } from 'node:worker_threads';
import type { DataSource, DataSourceOptions } from 'typeorm';
import type { TaskObserver } from '../observers/task-observer';
import type { TaskBackend } from '../storage/task-backend';
import type { TaskflowPrometheusOptions } from './prometheus-options';
import type { TaskAuthBackend, TaskCredentialPair } from './task-auth-backend';

/** Options of the manager, accepted by both modules. Durations in seconds. */
export interface TaskManagerOptions {
  /** SQLite file (better-sqlite3 through TypeORM). */
  snapshotDb?: string;
  /** A shared database: TypeORM options or an existing DataSource. Wins over `snapshotDb`. */
  database?: DataSourceOptions | DataSource;
  /**
   * Your own storage: an instance of a class extending TaskBackend. Wins over
   * `database` and `snapshotDb`. Default: TypeORM with one of those, else memory.
   */
  backend?: TaskBackend;
  /** Upper bound (s) on how long a finished record may stay unwritten. Default 60. */
  snapshotInterval?: number;
  /** Unfinished tasks survive restarts and crashes. Default false. */
  requeuePending?: boolean;
  /** Terminal records older than this many days are pruned. Default null (keep). */
  retentionDays?: number | null;
  /** Cap on tasks running at once. Default null (no cap). */
  maxConcurrentTasks?: number | null;
  /** Observers of logs and lifecycle events. */
  loggers?: TaskObserver[];
  /** Shorthand for one FileLogger at this path. */
  logFile?: string;
  /** With `logFile`: also write lifecycle lines. Default false. */
  logLifecycle?: boolean;
  /** Base64 32-byte key: arguments are stored AES-256-GCM encrypted. */
  encryptArgsKey?: string;
  /** Finished records kept in memory. Default 10000. */
  maxInMemory?: number;
  /** Lines kept in one task's `logs` (the middle is elided past this). Default 1000. */
  maxLogLines?: number;
  /** Seconds an instance's lease lasts without a heartbeat before others recover its tasks. Default 30. */
  instanceLeaseSeconds?: number;
  /**
   * Seconds a database query (or taking a pooled connection) may take before it is
   * abandoned and counted as an outage: reads answer from memory, writes are retried.
   * Default 5.
   */
  queryTimeout?: number;
  /** Seconds shutdown waits for running tasks before interrupting them. Default 5. */
  shutdownGracePeriod?: number;
  /** Prefix of the package's table names. Default 'taskflow_'. */
  tablePrefix?: string;
  /** The worker-thread pool of `@BackgroundTask({ executor: 'worker' })` tasks. Needs the package `piscina`. */
  workers?: TaskWorkersOptions;
  /** Seconds `enqueue()` waits for its row to be committed before it rejects (EnqueueTimeoutError). Default 10. */
  enqueueTimeout?: number;
  /**
   * With a database: past this many unwritten changes of started (running or finished)
   * tasks, no task starts until the writer has caught up, and `enqueue()` waits for that
   * before writing its task; `addTask` still accepts. Bounds memory when tasks run faster
   * than rows are stored. Default 6000.
   */
  maxWriteBacklog?: number;
  /**
   * Prometheus metrics of finished tasks, durations, pending and running (needs
   * prom-client). `true` registers them in prom-client's global `register`;
   * `{ registry, prefix }` in a registry of yours. Default off.
   */
  prometheus?: boolean | TaskflowPrometheusOptions;
  /**
   * A task runs in the async context of the call that created it (addTask, enqueue, a
   * retry): AsyncLocalStorage values (nestjs-cls, a request id) and OpenTelemetry's active
   * span flow in, through every attempt. Tasks of schedules, requeue and other instances
   * run in none. `false`: every task runs in none. Default true.
   */
  propagateContext?: boolean;
}

/** The pool that runs `executor: 'worker'` tasks, each thread booting a Nest application context. */
export interface TaskWorkersOptions {
  /**
   * `"<absolute path of a compiled file>#<export name>"`: the Nest module each worker thread boots
   * (`path.join(__dirname, 'app.module.js') + '#AppModule'`). The package's own modules start nothing there.
   */
  module: string;
  /** Threads in the pool. Default `max(1, os.availableParallelism() - 1)`. */
  size?: number;
  /** Memory limits of each thread; a thread that exceeds them fails its attempt and is replaced. */
  resourceLimits?: ResourceLimits;
}

/** `[username, password]`, or `[username, password, role]` (role `viewer`, `operator` or `admin`; default `admin`). */
export type TaskAuthCredentials = TaskCredentialPair;

/** Admin options of TaskAdminModule, on top of the manager's. */
export interface TaskAdminOptions extends TaskManagerOptions {
  path?: string;
  displayFuncArgs?: boolean;
  autoInstall?: boolean;
  auth?: TaskAuthCredentials | readonly TaskAuthCredentials[] | TaskAuthBackend | null;
  tokenExpiry?: number;
  secretKey?: string;
  pollInterval?: number;
  title?: string;
  publicStream?: boolean;
  /** SSE streams open at once from one client address; past it, 429. Default 10. */
  maxStreamsPerAddress?: number;
  /** SSE streams open at once in total; past it, 503. Default 1000. */
  maxStreams?: number;
  /** Live tasks sent at most on connect (oldest first); the rest is announced by a `resync` event. Default 1000. */
  streamFirstBatchSize?: number;
}

/** Options that decide which routes exist: given synchronously, even to forRootAsync. */
export interface TaskAdminRouteOptions {
  path?: string;
  autoInstall?: boolean;
}

export interface TaskOptionsFactory<T> {
  createTaskOptions(): T | Promise<T>;
}

export interface TaskModuleAsyncOptions<T> extends Pick<ModuleMetadata, 'imports'> {
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useFactory?: (...args: any[]) => T | Promise<T>;
  useClass?: Type<TaskOptionsFactory<T>>;
  useExisting?: Type<TaskOptionsFactory<T>>;
}

export type TaskManagerAsyncOptions = TaskModuleAsyncOptions<TaskManagerOptions>;

export interface TaskAdminAsyncOptions extends TaskModuleAsyncOptions<Omit<TaskAdminOptions, 'path' | 'autoInstall'>>, TaskAdminRouteOptions {}
