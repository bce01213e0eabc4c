import { WRITE_COLUMNS } from './task-rows';

/**
 * PostgreSQL multi-row writes as one array per column, `SELECT * FROM unnest(...)`.
 *
 * A multi-row VALUES list of 500 rows has 13,500 parameters: the server parses and
 * plans a statement that size for every 500 rows, and the client rewrote and bound
 * each placeholder (in the profile of a 100,000-task burst, the write was the bound
 * and `placeholders` alone was 4 % of the main thread). With arrays the statement has
 * one parameter per column whatever the number of rows, so a whole batch is one
 * statement, one round trip and one plan.
 */

type WriteColumn = (typeof WRITE_COLUMNS)[number];

/** One statement with `?` placeholders and its parameters, in order. */
export interface Statement {
  text: string;
  params: unknown[];
  /** A write (no parameters) of what this one RETURNs, read as the CTE `written` (see pg-search.ts's queueWritten). */
  then?: (written: string) => string;
}

/**
 * Bind parameters a combined statement takes at most: PostgreSQL's protocol allows 65,535.
 * A batch's rows take 27 whatever their number, its metric deltas 3 or 4 per changed cell.
 */
const MAX_PARAMS = 30_000;

/**
 * `writes` as data-modifying CTEs of `final` (or of `SELECT 1`): one statement, one round
 * trip. PostgreSQL runs every one of them, each to completion, in one snapshot; those of a
 * batch write disjoint rows (new ids, stored ids, the aggregate rows), so none depends on
 * another's effect. Any of them failing fails the statement, as a failing one of separate
 * statements failed the transaction. Past MAX_PARAMS parameters (thousands of changed
 * metric cells), the statements as they are, one after the other.
 */
export function inOneStatement(writes: readonly Statement[], final: Statement | null): Statement[] {
  if (writes.length === 0) return final ? [final] : [];
  const last = final ?? { text: 'SELECT 1', params: [] };
  const params = writes.reduce((n, w) => n + w.params.length, last.params.length);
  if (params > MAX_PARAMS) return final ? [...writes.map(standalone), final] : writes.map(standalone);
  const ctes = writes.map((w, i) => (w.then ? `w${i} AS (${w.text}), w${i}q AS (${w.then(`w${i}`)})` : `w${i} AS (${w.text})`)).join(', ');
  return [{ text: `WITH ${ctes} ${last.text}`, params: [...writes.flatMap((w) => w.params), ...last.params] }];
}

/** `write` as a statement of its own, with its follow-up write if it has one. */
export function standalone(write: Statement): Statement {
  return write.then ? { text: `WITH w AS (${write.text}) ${write.then('w')}`, params: write.params } : write;
}

/** The array type each column's values are sent as (the column's own type, or text for the keys). */
const ARRAY_TYPES: Record<WriteColumn, string> = {
  id: 'text',
  func_name: 'text',
  status: 'text',
  created_at: 'bigint',
  start_time: 'bigint',
  end_time: 'bigint',
  retries_used: 'integer',
  error: 'text',
  stacktrace: 'text',
  logs: 'text',
  tags: 'text',
  source: 'text',
  priority: 'double precision',
  progress: 'double precision',
  args: 'text',
  args_cipher: 'text',
  idempotency_key: 'text',
  durable: 'smallint',
  owner: 'text',
  version: 'bigint',
  result: 'text',
  attempts: 'text',
  executor: 'text',
  run_at: 'bigint',
  duration_ms: 'bigint',
  prune_at: 'bigint',
  search_text: 'text',
};

/** `SELECT * FROM unnest(CAST(? AS text[]), ...)` over the task columns `columns`, one `?` each. */
export function unnestSource(columns: readonly string[]): string {
  const arrays = columns.map((c) => {
    const type = ARRAY_TYPES[c as WriteColumn];
    if (!type) throw new TypeError(`no array type for column ${c}`);
    return `CAST(? AS ${type}[])`;
  });
  return `SELECT * FROM unnest(${arrays.join(', ')})`;
}

/**
 * Rows of parameters turned into one array literal per column (the parameters of
 * unnestSource), built here rather than by the driver: pg escapes every element with
 * two regular expressions, which showed in the profile; most of ours need none. A number
 * needs no quotes, and a text without `"` or `\\` only its quotes.
 */
export function columnArrays(rows: readonly (readonly unknown[])[], width: number): string[] {
  const arrays: string[] = [];
  const parts = new Array<string>(rows.length);
  for (let c = 0; c < width; c++) {
    for (let r = 0; r < rows.length; r++) parts[r] = element(rows[r][c]);
    arrays.push(`{${parts.join(',')}}`);
  }
  return arrays;
}

const NEEDS_ESCAPE = /["\\]/;

/** One element of an array literal: NULL, a finite number as it is, or the value's text in double quotes with `"` and `\\` escaped. */
function element(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  const text = typeof value === 'string' ? value : String(value);
  return NEEDS_ESCAPE.test(text) ? `"${text.replace(/(["\\])/g, '\\$1')}"` : `"${text}"`;
}
