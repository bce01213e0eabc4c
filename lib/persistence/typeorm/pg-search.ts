import { valuesList } from './dialect';
import type { TableNames } from './table-names';

/** The tables this file names (SearchTables of search-index.ts, which imports this file). */
type SearchTables = Pick<TableNames, 'tasks' | 'search' | 'searchQueue'>;

/**
 * PostgreSQL's search index, off the write path: a side table (`search`: each row's
 * searched texts, lowercased as the LIKEs of query-builder.ts read them, with a trigram
 * GIN on each) and a queue (`search_queue`: ids whose searched text is new, changed or
 * deleted). With the GINs on the task table itself, they were about half of an insert's
 * server time (bench/NOTES.md, session 9), and paid again by every non-HOT update. Now a
 * write only appends a queue row (a heap tuple, no index) in its own statement, the
 * indexer (pg-search-indexer.ts) folds the queue in, and a search reads the side table's
 * matches plus every queued row, so it misses none; the LIKEs on the task row still decide.
 */

/** The columns a search reads, by the name both tables give them. */
export type SearchColumn = 'search_text' | 'tags' | 'args';

const ESCAPE = `ESCAPE '!'`;

/** Schema step 10: the side table and the queue, the side table filled from the rows there, the task table's GINs dropped. */
export function pgVersion10(t: SearchTables): string[] {
  const key = `VARCHAR(128) COLLATE "C"`;
  return [
    // Writers (an instance of an older version still running) wait until the step commits:
    // a row they wrote after the fill's snapshot would be in neither the side table nor the queue.
    `LOCK TABLE "${t.tasks}" IN SHARE MODE`,
    `CREATE TABLE IF NOT EXISTS "${t.search}" (task_id ${key} NOT NULL PRIMARY KEY, search_text TEXT NOT NULL, tags TEXT NOT NULL, args TEXT NOT NULL)`,
    // No index: a write appends, a fold takes the oldest tuples, a search reads them all.
    `CREATE TABLE IF NOT EXISTS "${t.searchQueue}" (task_id ${key} NOT NULL)`,
    `INSERT INTO "${t.search}" (task_id, search_text, tags, args) SELECT id, search_text, LOWER(tags), LOWER(args) FROM "${t.tasks}"`,
    // Statistics now: autovacuum took more than 25 min to get to a 1M-row side table on a busy server.
    `ANALYZE "${t.search}"`,
    ...['search', 'tags', 'args'].map((name) => `DROP INDEX IF EXISTS "${t.tasks}_${name}_trgm"`),
  ];
}

/** The trigram GIN indexes of the side table: [name, column]. */
export function pgSearchIndexes(t: SearchTables): [string, SearchColumn][] {
  return [
    [`${t.search}_search_trgm`, 'search_text'],
    [`${t.search}_tags_trgm`, 'tags'],
    [`${t.search}_args_trgm`, 'args'],
  ];
}

/**
 * The rows that may hold `pattern` (a LIKE pattern, lowercased) in one of `columns`: the
 * side table's matches (through its GINs; a scan of it without pg_trgm) and all queued rows.
 */
export function pgCandidates(t: SearchTables, pattern: string, columns: readonly SearchColumn[]): { sql: string; params: unknown[] } {
  const matches = columns.map((c) => `${c} LIKE ? ${ESCAPE}`).join(' OR ');
  return {
    sql: `id IN (SELECT task_id FROM "${t.search}" WHERE ${matches} UNION ALL SELECT task_id FROM "${t.searchQueue}")`,
    params: columns.map(() => pattern),
  };
}

/**
 * The queue rows of a task write, as a statement over `written`, the name of the write's
 * data-modifying CTE (RETURNING id, search_text, tags, args). The task table as this
 * statement reads it is the snapshot before the write (PostgreSQL runs a statement's CTEs
 * on one snapshot), so a row whose text the write leaves as it was (a status or progress
 * update) queues nothing. Every write appends its own queue row: a fold under way cannot
 * have taken it (see foldStatement).
 */
export function queueWritten(t: SearchTables, written: string, replaced: boolean): string {
  const queue = `INSERT INTO "${t.searchQueue}" (task_id) SELECT w.id FROM ${written} w`;
  if (!replaced) return queue;
  return (
    `${queue} LEFT JOIN "${t.tasks}" o ON o.id = w.id WHERE o.id IS NULL OR o.search_text IS DISTINCT FROM w.search_text ` +
    'OR o.tags IS DISTINCT FROM w.tags OR o.args IS DISTINCT FROM w.args'
  );
}

/** What a task write returns for queueWritten. */
export const WRITTEN_TEXT = ' RETURNING id, search_text, tags, args';

/** Every row queued again (rebuildSearchIndex): the indexer then folds each one's current text in. */
export function pgRequeueEverything(t: SearchTables): string {
  return `INSERT INTO "${t.searchQueue}" (task_id) SELECT id FROM "${t.tasks}"`;
}

/** Rows about to be deleted (their ids), in the deleting transaction: queued, so that the fold drops their side rows. */
export function pgUnindex(t: SearchTables, count: number): string {
  return `INSERT INTO "${t.searchQueue}" (task_id) VALUES ${valuesList(1, count)}`;
}

/**
 * One fold of up to `chunk` queued rows, one statement (one snapshot), run by one folder at
 * a time (pg-search-indexer.ts): the oldest queue tuples leave the queue, and for each id
 * among them the side table takes the task row's current text, or loses its row when the
 * task row is gone. A write committed before this statement's snapshot is seen whole (its
 * row and its queue tuple); one committed later left a tuple this statement cannot see,
 * which stays queued. A search sees the fold entirely or not at all.
 */
export function foldStatement(t: SearchTables, chunk: number): string {
  const side = `"${t.search}"`;
  const tasks = `"${t.tasks}"`;
  return (
    `WITH taken AS (DELETE FROM "${t.searchQueue}" WHERE ctid = ANY(ARRAY(SELECT ctid FROM "${t.searchQueue}" LIMIT ${Math.floor(chunk)})) RETURNING task_id), ` +
    'ids AS (SELECT DISTINCT task_id FROM taken), ' +
    `gone AS (DELETE FROM ${side} s USING ids WHERE s.task_id = ids.task_id AND NOT EXISTS (SELECT 1 FROM ${tasks} x WHERE x.id = ids.task_id)), ` +
    `kept AS (INSERT INTO ${side} AS s (task_id, search_text, tags, args) ` +
    `SELECT x.id, x.search_text, LOWER(x.tags), LOWER(x.args) FROM ids JOIN ${tasks} x ON x.id = ids.task_id ` +
    'ON CONFLICT (task_id) DO UPDATE SET search_text = excluded.search_text, tags = excluded.tags, args = excluded.args ' +
    'WHERE (s.search_text, s.tags, s.args) IS DISTINCT FROM (excluded.search_text, excluded.tags, excluded.args)) ' +
    'SELECT COUNT(*) AS n FROM taken'
  );
}
