import { MAX_LIST_LIMIT, TASK_SORTS } from '../../task/task-query';
import { TASK_STATUSES } from '../../task/task-status';
import { JsonSchema, ref } from './openapi-schemas';

/** A query or path parameter of an admin route. */
export interface RouteParameter {
  name: string;
  in: 'query' | 'path';
  description: string;
  schema: JsonSchema;
  required?: boolean;
}

/** What the document says of one route; the route itself (method, path) comes from the mounted controllers. */
export interface RouteDescription {
  summary: string;
  tag: 'tasks' | 'insights' | 'dashboard' | 'auth' | 'docs';
  /** The least role that may call it; null for a route open without a session (login, logout). */
  role: 'viewer' | 'operator' | 'admin' | null;
  parameters?: RouteParameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  /** The success answer: its status and body. */
  success: { status: number; description: string; content?: Record<string, { schema: JsonSchema }>; headers?: Record<string, JsonSchema> };
  /** Error statuses besides 401/403, which every guarded route may answer. */
  errors?: Record<number, string>;
}

const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
const arrayOf = (name: string): JsonSchema => ({ type: 'array', items: ref(name) });
const query = (name: string, description: string, schema: JsonSchema, required = false): RouteParameter => ({
  name,
  in: 'query',
  description,
  schema,
  required,
});
const since = (fallback: string) =>
  query('since', `\`<N>h\`, \`<N>d\` or \`all\` (default \`${fallback}\`)`, { type: 'string', pattern: '^([1-9][0-9]*[hd]|all)$' });
const taskId: RouteParameter = { name: 'task_id', in: 'path', description: 'The task id (UUID)', schema: { type: 'string' }, required: true };
const funcName: RouteParameter = {
  name: 'func_name',
  in: 'path',
  description: 'The registered function name (`/` sent as `%2F`)',
  schema: { type: 'string' },
  required: true,
};
/** Pause and resume: an operator action on one registered function, answering its state. */
const functionAction = (summary: string, done: string): RouteDescription => ({
  summary,
  tag: 'tasks',
  role: 'operator',
  parameters: [funcName],
  success: { status: 200, description: done, content: json(ref('PauseState')) },
  errors: { 404: 'No such registered function' },
});
const paging = [
  query('limit', `1..${MAX_LIST_LIMIT}`, { type: 'integer', minimum: 1, maximum: MAX_LIST_LIMIT }),
  query('offset', '0 or more', { type: 'integer', minimum: 0 }),
];
const html = { 'text/html': { schema: { type: 'string' } } };
const listFilters = [
  query('status', 'One of the six statuses', { type: 'string', enum: [...TASK_STATUSES] }),
  query('func_name', 'Registered function name', { type: 'string' }),
  query('q', 'Case-insensitive substring of id, name or error', { type: 'string' }),
  query('search', 'Full-text search of logs and error', { type: 'string' }),
  query('tag', '`key:value`, repeatable; all must match', { type: 'array', items: { type: 'string' } }),
  query('instance', "Only tasks of this instance (its `instance_id`, the records' `instance`)", { type: 'string' }),
  since('all'),
];

/**
 * The documentation of every admin route, keyed by `METHOD /sub-path` (relative to
 * the mount path, Nest's `:param` syntax). The document lists the routes the module
 * really mounts and takes their descriptions from here; a test fails when one is missing.
 */
export const ADMIN_ROUTES: Record<string, RouteDescription> = {
  'GET /': {
    summary: 'List task records, newest first (header X-Total-Count: matches ignoring limit and offset)',
    tag: 'tasks',
    role: 'viewer',
    parameters: [...listFilters, query('sort', 'Sort order', { type: 'string', enum: [...TASK_SORTS] }), ...paging],
    success: { status: 200, description: 'Records', content: json(arrayOf('TaskRecord')), headers: { 'X-Total-Count': { type: 'integer' } } },
    errors: { 400: 'Bad query' },
  },
  'GET /metrics': {
    summary: 'Counts, success rate and durations',
    tag: 'tasks',
    role: 'viewer',
    success: { status: 200, description: 'Metrics', content: json(ref('TaskMetrics')) },
  },
  'GET /audit': {
    summary: 'Admin actions, newest first',
    tag: 'tasks',
    role: 'viewer',
    parameters: paging,
    success: { status: 200, description: 'Audit entries', content: json(arrayOf('AuditEntry')) },
    errors: { 400: 'Bad limit or offset' },
  },
  'GET /schedules': {
    summary: 'Scheduled tasks and their next run',
    tag: 'tasks',
    role: 'viewer',
    success: { status: 200, description: 'Schedules', content: json(arrayOf('ScheduleInfo')) },
  },
  'GET /instances': {
    summary: 'The instances sharing the database, alive first (empty without a database)',
    tag: 'tasks',
    role: 'viewer',
    success: { status: 200, description: 'Instances', content: json(arrayOf('TaskInstance')) },
  },
  'GET /registered': {
    summary: 'Registered @BackgroundTask functions and their options',
    tag: 'tasks',
    role: 'viewer',
    success: { status: 200, description: 'Functions', content: json(arrayOf('RegisteredTask')) },
  },
  'POST /bulk-retry': {
    summary: 'Retry the given failed or interrupted tasks',
    tag: 'tasks',
    role: 'operator',
    requestBody: { content: json(ref('TaskIds')) },
    success: { status: 200, description: 'What was dispatched', content: json(ref('BulkRetryResult')) },
    errors: { 400: 'Body is not {task_ids: string[]}', 415: 'Body is not JSON' },
  },
  'POST /retry-failed': {
    summary: 'Retry every failed or interrupted task since a time',
    tag: 'tasks',
    role: 'operator',
    parameters: [since('6h'), query('func_name', 'Only this function', { type: 'string' })],
    success: { status: 200, description: 'What was dispatched', content: json(ref('BulkRetryResult')) },
    errors: { 400: 'Bad since' },
  },
  'DELETE /history': {
    summary: 'Delete terminal records older than value × unit',
    tag: 'tasks',
    role: 'admin',
    parameters: [
      query('value', 'A positive integer', { type: 'integer', minimum: 1 }, true),
      query('unit', 'Unit of value', { type: 'string', enum: ['min', 'hour', 'day'] }, true),
    ],
    success: { status: 200, description: 'Records removed', content: json(ref('DeleteHistoryResult')) },
    errors: { 400: 'Bad value or unit' },
  },
  'POST /functions/:func_name/pause': functionAction(
    'Pause a function: its tasks stay pending (on every instance) until resumed; running ones finish',
    'Paused',
  ),
  'POST /functions/:func_name/resume': functionAction('Resume a paused function: its pending tasks start, in priority order', 'Resumed'),
  'GET /:task_id': {
    summary: 'One record, with its attempts',
    tag: 'tasks',
    role: 'viewer',
    parameters: [taskId],
    success: { status: 200, description: 'The record', content: json(ref('TaskRecord')) },
    errors: { 404: 'No such task' },
  },
  'POST /:task_id/retry': {
    summary: 'Retry a failed or interrupted task as a new record',
    tag: 'tasks',
    role: 'operator',
    parameters: [taskId],
    success: { status: 200, description: 'The new task', content: json(ref('TaskActionResult')) },
    errors: { 400: 'Not failed or interrupted', 404: 'No such task', 409: 'Its function is no longer registered' },
  },
  'POST /:task_id/cancel': {
    summary: 'Cancel a pending or running task',
    tag: 'tasks',
    role: 'operator',
    parameters: [taskId],
    success: { status: 200, description: 'The cancelled task', content: json(ref('TaskActionResult')) },
    errors: { 400: 'Not pending or running', 404: 'No such task' },
  },
  'GET /insights/throughput': {
    summary: 'Finished tasks per minute, by status',
    tag: 'insights',
    role: 'viewer',
    parameters: [query('minutes', 'Window length (default 60)', { type: 'integer', minimum: 1 })],
    success: { status: 200, description: 'Throughput', content: json(ref('ThroughputReport')) },
    errors: { 400: 'Bad minutes' },
  },
  'GET /insights/functions': {
    summary: 'Per-function counts and last failure',
    tag: 'insights',
    role: 'viewer',
    success: { status: 200, description: 'Functions', content: json(arrayOf('FunctionInsight')) },
  },
  'GET /insights/dead-letters': {
    summary: 'Failures grouped by error signature',
    tag: 'insights',
    role: 'viewer',
    parameters: [since('7d'), query('func_name', 'Only this function', { type: 'string' })],
    success: { status: 200, description: 'Groups', content: json(ref('DeadLetterReport')) },
    errors: { 400: 'Bad since' },
  },
  'GET /export.csv': {
    summary: 'The filtered list as CSV (the filters of the list route; no offset)',
    tag: 'insights',
    role: 'viewer',
    parameters: [
      query('status', 'One of the six statuses', { type: 'string', enum: [...TASK_STATUSES] }),
      query('func_name', 'Registered function name', { type: 'string' }),
      since('all'),
      paging[0],
    ],
    success: { status: 200, description: 'CSV', content: { 'text/csv': { schema: { type: 'string' } } } },
    errors: { 400: 'Bad query' },
  },
  'GET /dashboard': {
    summary: 'The dashboard page',
    tag: 'dashboard',
    role: 'viewer',
    success: { status: 200, description: 'HTML', content: html },
    errors: { 302: 'To the login page without a session' },
  },
  'GET /dashboard/assets/:file': {
    summary: "The dashboard's scripts and styles",
    tag: 'dashboard',
    role: 'viewer',
    parameters: [{ name: 'file', in: 'path', description: 'Asset file name', schema: { type: 'string' }, required: true }],
    success: { status: 200, description: 'The asset' },
    errors: { 404: 'No such asset' },
  },
  'GET /dashboard/stream': {
    summary:
      'Server-Sent Events: one `data:` record per task change, named `metrics` events; with a view (any parameter), ' +
      "only that view's changes and `resync` hints under bursts",
    tag: 'dashboard',
    role: 'viewer',
    parameters: [
      query('view', '`1`: a view stream, also without filters', { type: 'string', enum: ['1'] }),
      ...listFilters,
      query('task', 'A task whose every change is sent whatever the filters', { type: 'string' }),
    ],
    success: { status: 200, description: 'An event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
    errors: { 400: 'Bad view', 429: 'Too many streams from this address', 503: 'Too many streams' },
  },
  'GET /auth/login': {
    summary: 'The login page (auth on)',
    tag: 'auth',
    role: null,
    success: { status: 200, description: 'HTML', content: html },
    errors: { 404: 'Auth is off' },
  },
  'POST /auth/login': {
    summary: 'Sign in: a form answers 302 to the dashboard with a cookie, JSON answers a bearer token',
    tag: 'auth',
    role: null,
    requestBody: { content: { ...json(ref('LoginRequest')), 'application/x-www-form-urlencoded': { schema: ref('LoginRequest') } } },
    success: { status: 200, description: 'A token (JSON body)', content: json(ref('TokenResponse')) },
    errors: {
      302: 'Form: to the dashboard, with the session cookie',
      400: 'Malformed body',
      401: 'Wrong username or password',
      404: 'Auth is off',
      429: 'Too many failed attempts (Retry-After)',
      503: 'The auth backend failed',
    },
  },
  'GET /auth/logout': {
    summary: 'Sign out: the token is refused from then on',
    tag: 'auth',
    role: null,
    success: { status: 302, description: 'To the login page, cookie cleared' },
  },
  'POST /auth/logout': {
    summary: 'Sign out (for scripts)',
    tag: 'auth',
    role: null,
    success: { status: 302, description: 'To the login page, cookie cleared' },
  },
  'GET /auth/me': {
    summary: 'Who the session is',
    tag: 'auth',
    role: 'viewer',
    success: { status: 200, description: 'Session', content: json(ref('SessionInfo')) },
  },
  'GET /openapi.json': {
    summary: 'This document',
    tag: 'docs',
    role: 'viewer',
    success: { status: 200, description: 'OpenAPI 3.1', content: json({ type: 'object' }) },
  },
};
