/**
 * Limits of what a client may send to the admin routes. Free of dependencies: the
 * server's request parsers and the dashboard's browser bundle import the same values.
 */

/** Task ids are UUIDs in practice; any id of this shape is looked up. */
export const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Ids one `POST {path}/bulk-retry` may carry. */
export const MAX_BULK_IDS = 5000;

/** Longest free-text query parameter (`search`, `q`, `func_name`). */
export const MAX_QUERY_TEXT = 256;

/** Rows of `GET {path}/export.csv` without `limit`, and the most it may ask for. */
export const DEFAULT_EXPORT_ROWS = 10_000;
export const MAX_EXPORT_ROWS = 100_000;
