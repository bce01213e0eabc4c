import { TaskRecord } from '../task/task-record';

/**
 * Task records as CSV (RFC 4180, CRLF line ends) for `GET {path}/export.csv`.
 * Text cells that a spreadsheet would run as a formula (starting with = + - @,
 * tab or CR) get a leading `'`, so an error message or a tag written by anyone
 * who can start a task cannot execute on the machine of whoever opens the file.
 */

const HEADER = [
  'task_id',
  'func_name',
  'status',
  'source',
  'priority',
  'created_at',
  'start_time',
  'end_time',
  'duration_seconds',
  'retries_used',
  'progress',
  'run_at',
  'tags',
  'error',
];

export type CsvValue = string | number | null;

/** Column names; `args` last, only when arguments are displayed. */
export function csvHeader(withArgs: boolean): string[] {
  return withArgs ? [...HEADER, 'args'] : HEADER;
}

/** The cells of one record, in the order of csvHeader. */
export function csvRow(r: TaskRecord, withArgs: boolean): CsvValue[] {
  const row: CsvValue[] = [
    r.task_id,
    r.func_name,
    r.status,
    r.source,
    r.priority,
    r.created_at,
    r.start_time,
    r.end_time,
    r.duration,
    r.retries_used,
    r.progress,
    r.run_at,
    JSON.stringify(r.tags),
    r.error,
  ];
  if (withArgs) row.push(safeJson(r.args ?? []));
  return row;
}

/** One CSV line, CRLF-terminated. */
export function csvLine(cells: CsvValue[]): string {
  return cells.map(csvCell).join(',') + '\r\n';
}

/** One cell: empty for null and non-finite numbers, defused and quoted as needed for text. */
export function csvCell(value: CsvValue): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = value;
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** JSON of the arguments; a value JSON cannot write (a cycle) leaves the cell empty rather than failing the export. */
function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? '';
  } catch {
    return '';
  }
}
