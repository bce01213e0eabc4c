import { TASK_ROLES } from '../../options/task-role';
import { TASK_STATUSES } from '../../task/task-status';

/** A JSON Schema (OpenAPI 3.1 uses JSON Schema 2020-12). */
export type JsonSchema = Record<string, unknown>;

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const nullable = (type: string, extra: JsonSchema = {}): JsonSchema => ({ type: [type, 'null'], ...extra });
const isoTime = { type: 'string', format: 'date-time' };
const nullableTime = nullable('string', { format: 'date-time' });
const integer = { type: 'integer', minimum: 0 };
const rate = nullable('number', { minimum: 0, maximum: 1 });
const seconds = nullable('number', { minimum: 0 });
const object = (properties: Record<string, JsonSchema>, required: string[] = Object.keys(properties), extra: JsonSchema = {}): JsonSchema => ({
  type: 'object',
  properties,
  required,
  ...extra,
});

export { ref };

const statusCounts = {
  total: integer,
  pending: integer,
  running: integer,
  success: integer,
  failed: integer,
  interrupted: integer,
  cancelled: integer,
  success_rate: rate,
  avg_duration_seconds: seconds,
  p50_duration_seconds: seconds,
  p95_duration_seconds: seconds,
};

/** The components of the admin API's document: the bodies its routes answer with. */
export const OPENAPI_SCHEMAS: Record<string, JsonSchema> = {
  TaskStatus: { type: 'string', enum: [...TASK_STATUSES] },
  TaskRecord: object(
    {
      task_id: { type: 'string', format: 'uuid' },
      func_name: { type: 'string' },
      status: ref('TaskStatus'),
      created_at: isoTime,
      start_time: nullableTime,
      end_time: nullableTime,
      duration: seconds,
      retries_used: integer,
      error: nullable('string', { description: '"Name: message" of the last failure' }),
      logs: { type: 'array', items: { type: 'string' } },
      stacktrace: nullable('string'),
      tags: { type: 'object', additionalProperties: { type: 'string' } },
      source: { type: 'string', enum: ['manual', 'scheduled'] },
      priority: nullable('number'),
      executor: { type: 'string', enum: ['async', 'worker'] },
      progress: nullable('number', { minimum: 0, maximum: 1 }),
      instance: nullable('string', { description: 'The instance that owns or last ran the task' }),
      run_at: nullableTime,
      args: { type: 'array', description: 'Only with displayFuncArgs' },
      result: { description: 'The JSON of the return value, only with displayFuncArgs' },
      attempts: {
        type: 'array',
        description: 'Detail route only',
        items: object({ attempt: { type: 'integer', minimum: 1 }, start_time: nullableTime, end_time: nullableTime, error: nullable('string') }),
      },
    },
    [
      'task_id',
      'func_name',
      'status',
      'created_at',
      'start_time',
      'end_time',
      'duration',
      'retries_used',
      'error',
      'logs',
      'stacktrace',
      'tags',
      'source',
      'priority',
      'executor',
    ],
  ),
  TaskMetrics: object(
    {
      ...statusCounts,
      by_function: {
        type: 'object',
        additionalProperties: object({
          total: integer,
          success: integer,
          failed: integer,
          success_rate: rate,
          avg_duration_seconds: seconds,
          p95_duration_seconds: seconds,
        }),
      },
    },
    [...Object.keys(statusCounts), 'by_function'],
  ),
  AuditEntry: object({
    entry_id: { type: 'string' },
    action: { type: 'string', enum: ['retry', 'cancel', 'bulk_retry', 'delete_history', 'login', 'login_failed', 'pause', 'resume'] },
    task_id: nullable('string', { description: '"bulk" for bulk actions, null for delete_history, sign-ins, pause and resume' }),
    actor: { type: 'string', description: 'The token\'s sub, or "anonymous" without auth' },
    timestamp: isoTime,
    detail: { type: 'object' },
  }),
  TaskActionResult: object({ task_id: { type: 'string', format: 'uuid' }, task: ref('TaskRecord') }),
  BulkRetryResult: object({
    dispatched: integer,
    skipped: integer,
    results: { type: 'array', items: object({ original_task_id: { type: 'string' }, new_task_id: { type: 'string' } }) },
  }),
  DeleteHistoryResult: object({ deleted: integer, store: integer, backend: integer }),
  ScheduleInfo: object({
    func_name: { type: 'string' },
    trigger: { type: 'string' },
    next_run: nullableTime,
    last_run: nullableTime,
    last_status: { oneOf: [ref('TaskStatus'), { type: 'null' }] },
    last_task_id: nullable('string'),
  }),
  TaskInstance: object({
    instance_id: { type: 'string', description: '`host/pid/random[/scope]`: the `instance` of the records it owns or ran' },
    host: { type: 'string' },
    pid: nullable('integer'),
    started_at: nullableTime,
    last_heartbeat: nullableTime,
    alive: { type: 'boolean', description: 'Its lease has not expired' },
    running: integer,
    pending: integer,
  }),
  RegisteredTask: object(
    { name: { type: 'string' }, paused: { type: 'boolean', description: 'Its tasks stay pending until resumed' }, options: { type: 'object' } },
    ['name', 'paused', 'options'],
  ),
  PauseState: object({ func_name: { type: 'string' }, paused: { type: 'boolean' } }),
  ThroughputReport: object({
    minutes: integer,
    bucket_seconds: integer,
    from: isoTime,
    to: isoTime,
    buckets: {
      type: 'array',
      items: object({ start: isoTime, success: integer, failed: integer, interrupted: integer, cancelled: integer }),
    },
  }),
  FunctionInsight: object(
    {
      ...statusCounts,
      func_name: { type: 'string' },
      registered: { type: 'boolean' },
      last_failure: { oneOf: [object({ task_id: { type: 'string' }, at: isoTime, error: nullable('string') }), { type: 'null' }] },
    },
    [...Object.keys(statusCounts), 'func_name', 'registered', 'last_failure'],
  ),
  DeadLetterReport: object({
    since: nullableTime,
    scanned: integer,
    truncated: { type: 'boolean' },
    groups: {
      type: 'array',
      items: object({
        signature: { type: 'string' },
        error: { type: 'string' },
        count: integer,
        statuses: { type: 'object', additionalProperties: integer },
        functions: { type: 'array', items: { type: 'string' } },
        first_seen: isoTime,
        last_seen: isoTime,
        sample_task_id: { type: 'string' },
        task_ids: { type: 'array', items: { type: 'string' } },
      }),
    },
  }),
  LoginRequest: object({ username: { type: 'string' }, password: { type: 'string' } }),
  TokenResponse: object({
    access_token: { type: 'string' },
    token_type: { type: 'string', const: 'bearer' },
    expires_in: { type: 'integer', description: 'Seconds' },
    role: { type: 'string', enum: [...TASK_ROLES] },
  }),
  SessionInfo: object({ sub: { type: 'string' }, role: { type: 'string', enum: [...TASK_ROLES] } }),
  TaskIds: object({ task_ids: { type: 'array', items: { type: 'string' }, minItems: 1 } }),
  /** The body of every error: Nest's HttpException body. */
  Error: object({
    statusCode: { type: 'integer' },
    message: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    error: { type: 'string' },
  }),
};
