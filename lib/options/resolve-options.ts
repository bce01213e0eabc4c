import { randomBytes } from 'node:crypto';
import * as nodePath from 'node:path';
import type { DataSource, DataSourceOptions } from 'typeorm';
import { TaskAuthBackend } from './task-auth-backend';
import { TASK_ROLES, isTaskRole } from './task-role';
import { FileLogger } from '../observers/file-logger';
import { TaskObserver } from '../observers/task-observer';
import { InvalidOptionError } from '../errors/invalid-option.error';
import { messages } from '../errors/messages';
import { TaskAdminOptions, TaskAuthCredentials } from './task-options.interface';
import { TaskBackend } from '../storage/task-backend';
import { ResolvedWorkers, resolveWorkers } from './resolve-workers';
import type { PrometheusRegistry, ResolvedPrometheusOptions } from './prometheus-options';

/** Every option with its default applied; what the rest of the package reads. */
export interface ResolvedTaskOptions {
  path: string;
  displayFuncArgs: boolean;
  autoInstall: boolean;
  auth: TaskAuthBackend | null;
  tokenExpiry: number;
  secretKey: string;
  /** True when `secretKey` was generated because none was given. */
  secretKeyGenerated: boolean;
  pollInterval: number;
  title: string;
  publicStream: boolean;
  maxStreamsPerAddress: number;
  maxStreams: number;
  streamFirstBatchSize: number;
  snapshotDb: string | null;
  database: DataSourceOptions | DataSource | null;
  /** The user's own storage; wins over `database` and `snapshotDb`. */
  backend: TaskBackend | null;
  snapshotInterval: number;
  requeuePending: boolean;
  retentionDays: number | null;
  maxConcurrentTasks: number | null;
  loggers: TaskObserver[];
  logFile: string | null;
  logLifecycle: boolean;
  encryptArgsKey: Buffer | null;
  maxInMemory: number;
  maxLogLines: number;
  instanceLeaseSeconds: number;
  /** Seconds a database query or connection attempt may take before it counts as an outage. */
  queryTimeout: number;
  shutdownGracePeriod: number;
  tablePrefix: string;
  /** The worker pool, or null when no `workers` option is given. */
  workers: ResolvedWorkers | null;
  enqueueTimeout: number;
  /** Unwritten changes of started tasks past which no task starts until the writer catches up. */
  maxWriteBacklog: number;
  prometheus: ResolvedPrometheusOptions | null;
  propagateContext: boolean;
}

const KNOWN_OPTIONS = new Set([
  'path',
  'displayFuncArgs',
  'autoInstall',
  'auth',
  'tokenExpiry',
  'secretKey',
  'pollInterval',
  'title',
  'publicStream',
  'snapshotDb',
  'database',
  'backend',
  'snapshotInterval',
  'requeuePending',
  'retentionDays',
  'maxConcurrentTasks',
  'loggers',
  'logFile',
  'logLifecycle',
  'encryptArgsKey',
  'maxInMemory',
  'maxLogLines',
  'instanceLeaseSeconds',
  'queryTimeout',
  'shutdownGracePeriod',
  'tablePrefix',
  'workers',
  'enqueueTimeout',
  'maxWriteBacklog',
  'prometheus',
  'propagateContext',
  'maxStreamsPerAddress',
  'maxStreams',
  'streamFirstBatchSize',
]);

/** Options that only make sense with the admin surface; TaskManagerModule refuses them. */
const ADMIN_ONLY = new Set([
  'path',
  'displayFuncArgs',
  'autoInstall',
  'auth',
  'tokenExpiry',
  'secretKey',
  'pollInterval',
  'title',
  'publicStream',
  'maxStreamsPerAddress',
  'maxStreams',
  'streamFirstBatchSize',
]);

/** Applies defaults and validates; a bad option throws naming the option and what is allowed. */
export function resolveOptions(input: TaskAdminOptions = {}, kind: 'admin' | 'manager' = 'admin'): ResolvedTaskOptions {
  if (input === null || typeof input !== 'object') {
    throw new InvalidOptionError('options', 'an object', input);
  }
  for (const key of Object.keys(input)) {
    const value = (input as Record<string, unknown>)[key];
    if (!KNOWN_OPTIONS.has(key)) throw new InvalidOptionError(key, `one of the known options (${[...KNOWN_OPTIONS].join(', ')})`, value);
    if (kind === 'manager' && ADMIN_ONLY.has(key) && value !== undefined) {
      throw new InvalidOptionError(key, 'nothing: it is an option of TaskAdminModule, and TaskManagerModule mounts no routes', value);
    }
  }
  const auth = resolveAuth(input.auth);
  const logFile = optionalString(input, 'logFile');
  const logLifecycle = bool(input, 'logLifecycle', false);
  const secret = optionalString(input, 'secretKey');
  return {
    path: resolvePath(input.path),
    displayFuncArgs: bool(input, 'displayFuncArgs', false),
    autoInstall: bool(input, 'autoInstall', false),
    auth,
    tokenExpiry: positiveNumber(input, 'tokenExpiry', 86400),
    secretKey: secret ?? randomBytes(32).toString('base64url'),
    secretKeyGenerated: secret === null,
    pollInterval: positiveNumber(input, 'pollInterval', 30),
    title: optionalString(input, 'title') ?? 'nestjs-taskflow',
    publicStream: bool(input, 'publicStream', false),
    maxStreamsPerAddress: positiveInteger(input, 'maxStreamsPerAddress', 10),
    maxStreams: positiveInteger(input, 'maxStreams', 1000),
    streamFirstBatchSize: positiveInteger(input, 'streamFirstBatchSize', 1000),
    snapshotDb: optionalString(input, 'snapshotDb'),
    database: resolveDatabase(input.database),
    backend: resolveBackend(input.backend),
    snapshotInterval: positiveNumber(input, 'snapshotInterval', 60),
    requeuePending: bool(input, 'requeuePending', false),
    retentionDays: nullablePositive(input, 'retentionDays'),
    maxConcurrentTasks: nullablePositiveInteger(input, 'maxConcurrentTasks'),
    loggers: resolveLoggers(input.loggers, logFile, logLifecycle),
    logFile,
    logLifecycle,
    encryptArgsKey: resolveKey(input.encryptArgsKey),
    maxInMemory: positiveInteger(input, 'maxInMemory', 10000),
    maxLogLines: positiveInteger(input, 'maxLogLines', 1000),
    instanceLeaseSeconds: positiveNumber(input, 'instanceLeaseSeconds', 30),
    queryTimeout: resolveQueryTimeout(input),
    shutdownGracePeriod: nonNegativeNumber(input, 'shutdownGracePeriod', 5),
    tablePrefix: resolveTablePrefix(input.tablePrefix),
    workers: resolveWorkers(input.workers),
    enqueueTimeout: positiveNumber(input, 'enqueueTimeout', 10),
    maxWriteBacklog: positiveInteger(input, 'maxWriteBacklog', 6000),
    prometheus: resolvePrometheus(input.prometheus),
    propagateContext: bool(input, 'propagateContext', true),
  };
}

/** Normalises to a leading slash and no trailing slash: '/tasks', '/admin/jobs'. */
export function resolvePath(path: unknown = '/tasks'): string {
  if (typeof path !== 'string' || !/^\/?[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*\/?$/.test(path)) {
    throw new InvalidOptionError('path', "a URL path of one or more segments such as '/tasks' or '/admin/jobs'", path);
  }
  return '/' + path.replace(/^\/+|\/+$/g, '');
}

function resolveTablePrefix(prefix: unknown): string {
  if (prefix === undefined) return 'taskflow_';
  if (typeof prefix !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,30}$/.test(prefix)) {
    throw new InvalidOptionError(
      'tablePrefix',
      'letters, digits and underscores, starting with a letter or underscore, at most 31 characters',
      prefix,
    );
  }
  return prefix;
}

function resolveAuth(auth: TaskAdminOptions['auth']): TaskAuthBackend | null {
  if (auth === undefined || auth === null) return null;
  if (auth instanceof TaskAuthBackend) return auth;
  if (isPair(auth)) return TaskAuthBackend.fromCredentials([checkRole(auth)]);
  if (Array.isArray(auth) && auth.length > 0 && auth.every(isPair)) {
    return TaskAuthBackend.fromCredentials((auth as readonly TaskAuthCredentials[]).map(checkRole));
  }
  throw new InvalidOptionError(
    'auth',
    'null, a [username, password] pair of non-empty strings (a role may follow: [username, password, role]), a non-empty list of such pairs, or a TaskAuthBackend',
    auth,
  );
}

/** Shape only: two or three non-empty strings (the role is checked by checkRole, for a precise message). */
function isPair(value: unknown): value is TaskAuthCredentials {
  return Array.isArray(value) && (value.length === 2 || value.length === 3) && value.every((part) => typeof part === 'string' && part.length > 0);
}

function checkRole(pair: TaskAuthCredentials): TaskAuthCredentials {
  const role: unknown = pair[2];
  if (role !== undefined && !isTaskRole(role)) {
    throw new InvalidOptionError(`auth (role of user ${JSON.stringify(pair[0])})`, `one of ${TASK_ROLES.join(', ')}`, role);
  }
  return pair;
}

function resolveDatabase(db: unknown): DataSourceOptions | DataSource | null {
  if (db === undefined || db === null) return null;
  if ((typeof db === 'object' && db !== null && 'type' in (db as object)) || isDataSource(db)) {
    return db as DataSourceOptions | DataSource;
  }
  throw new InvalidOptionError('database', 'TypeORM DataSourceOptions (with a `type`) or a DataSource', db);
}

function isDataSource(value: unknown): value is DataSource {
  return typeof value === 'object' && value !== null && 'initialize' in value && 'options' in value;
}

/**
 * The observers, plus one FileLogger for the `logFile` shorthand unless `loggers`
 * already has a FileLogger on that file (then that one is used as given, so no
 * line is written twice). Two FileLoggers on one file are refused.
 */
function resolveLoggers(loggers: unknown, logFile: string | null, logLifecycle: boolean): TaskObserver[] {
  if (loggers !== undefined && loggers !== null && !(Array.isArray(loggers) && loggers.every((l) => l instanceof TaskObserver))) {
    throw new InvalidOptionError('loggers', 'an array of TaskObserver instances', loggers);
  }
  const list: TaskObserver[] = loggers ? [...(loggers as TaskObserver[])] : [];
  const files = new Set<string>();
  for (const observer of list) {
    if (!(observer instanceof FileLogger)) continue;
    if (files.has(observer.path)) throw new InvalidOptionError('loggers', messages.duplicateFileLogger(observer.path), `${observer.path} twice`);
    files.add(observer.path);
  }
  if (logFile !== null && !files.has(nodePath.resolve(logFile))) list.push(new FileLogger(logFile, { logLifecycle }));
  return list;
}

function resolveKey(key: unknown): Buffer | null {
  if (key === undefined || key === null) return null;
  const buf = typeof key === 'string' ? Buffer.from(key, 'base64') : null;
  if (!buf || buf.length !== 32) {
    throw new InvalidOptionError('encryptArgsKey', 'a base64 string of exactly 32 bytes (openssl rand -base64 32)', '<redacted>');
  }
  return buf;
}

type Bag = Record<string, unknown>;

function bool(input: object, name: string, fallback: boolean): boolean {
  const v = (input as Bag)[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new InvalidOptionError(name, 'true or false', v);
  return v;
}

function optionalString(input: object, name: string): string | null {
  const v = (input as Bag)[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.length === 0) throw new InvalidOptionError(name, 'a non-empty string', name === 'secretKey' ? '<redacted>' : v);
  return v;
}

function positiveNumber(input: object, name: string, fallback: number): number {
  const v = (input as Bag)[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new InvalidOptionError(name, 'a finite number of seconds greater than 0', v);
  return v;
}

/** Timers take at most 2^31 - 1 ms; an hour is far past any useful query wait. */
function resolveQueryTimeout(input: object): number {
  const seconds = positiveNumber(input, 'queryTimeout', 5);
  if (seconds > 3600) throw new InvalidOptionError('queryTimeout', 'a finite number of seconds greater than 0 and at most 3600', seconds);
  return seconds;
}

function nonNegativeNumber(input: object, name: string, fallback: number): number {
  const v = (input as Bag)[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InvalidOptionError(name, 'a finite number of seconds, 0 or more', v);
  return v;
}

function positiveInteger(input: object, name: string, fallback: number): number {
  const v = (input as Bag)[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new InvalidOptionError(name, 'an integer of at least 1', v);
  return v;
}

function nullablePositive(input: object, name: string): number | null {
  const v = (input as Bag)[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new InvalidOptionError(name, 'null or a number greater than 0', v);
  return v;
}

function nullablePositiveInteger(input: object, name: string): number | null {
  const v = (input as Bag)[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new InvalidOptionError(name, 'null or an integer of at least 1', v);
  return v;
}

function resolvePrometheus(value: unknown): ResolvedPrometheusOptions | null {
  if (value === undefined || value === null || value === false) return null;
  if (value === true) return { registry: null, prefix: 'taskflow_' };
  const expected = 'true, or { registry?: a prom-client Registry, prefix?: string }';
  if (typeof value !== 'object') throw new InvalidOptionError('prometheus', expected, value);
  const { registry, prefix, ...rest } = value as { registry?: unknown; prefix?: unknown };
  if (Object.keys(rest).length > 0) throw new InvalidOptionError('prometheus', expected, value);
  const isRegistry = (r: unknown): r is PrometheusRegistry =>
    typeof r === 'object' && r !== null && typeof (r as PrometheusRegistry).registerMetric === 'function';
  if (registry !== undefined && !isRegistry(registry)) throw new InvalidOptionError('prometheus.registry', 'a prom-client Registry', registry);
  if (prefix !== undefined && (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix))) {
    throw new InvalidOptionError('prometheus.prefix', 'a Prometheus metric name prefix such as "taskflow_"', prefix);
  }
  return { registry: registry ?? null, prefix: prefix ?? 'taskflow_' };
}

function resolveBackend(backend: unknown): TaskBackend | null {
  if (backend === undefined || backend === null) return null;
  if (backend instanceof TaskBackend) return backend;
  throw new InvalidOptionError('backend', 'an instance of a class extending TaskBackend', backend);
}
