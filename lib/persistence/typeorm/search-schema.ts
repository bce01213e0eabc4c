import { Logger } from '@nestjs/common';
import { SqlFamily } from './dialect';
import { Sql } from './connection';
import { pgSearchIndexes, pgVersion10 } from './pg-search';
import { SearchTables, searchDocOf, SQLITE_DOC, writeTerms } from './search-index';

/**
 * Version 7: an index for substring search.
 * - SQLite: an FTS5 table (trigram tokenizer, no positions, no copy of the text) keyed
 *   by the task row's rowid. The writes queue each row whose text is new or changed (not
 *   triggers: any trigger on the task table, even an empty one, tripled the cost of an
 *   insert), the indexer folds the queue in while the writer is idle, and a search also
 *   reads the queued rows, so it misses none. The rows already there are indexed by the step.
 * - PostgreSQL: nothing here; ensurePgTrigramIndexes runs after every migration (since
 *   version 10, on the side table; see version10).
 * - MySQL/MariaDB: a table of each row's trigrams as full-text words, written in the
 *   row's own transaction; the rows already there are filled in by backfillSearch.
 */
export function version7(family: SqlFamily, t: SearchTables, collation: string | null): string[] {
  if (family === 'postgres') return [];
  if (family === 'mysql') {
    const collate = collation ? ` COLLATE=${collation}` : '';
    return [
      `CREATE TABLE IF NOT EXISTS \`${t.search}\` (task_id VARCHAR(128) NOT NULL, terms LONGTEXT NOT NULL, ` +
        // `partial`: a row with too many trigrams to tokenise, always a candidate.
        `\`partial\` SMALLINT NOT NULL, PRIMARY KEY (task_id), KEY \`${t.search}_partial\` (\`partial\`), ` +
        `FULLTEXT KEY \`${t.search}_terms\` (terms)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4${collate}`,
    ];
  }
  const tasks = `"${t.tasks}"`;
  return [
    `CREATE VIRTUAL TABLE IF NOT EXISTS "${t.search}" USING fts5(doc, content='', contentless_delete=1, tokenize='trigram', detail=none)`,
    // `indexed`: 1 when the index may hold an older text of the row, which the indexer deletes first.
    `CREATE TABLE IF NOT EXISTS "${t.searchQueue}" (task_rowid INTEGER PRIMARY KEY, indexed INTEGER NOT NULL)`,
    `INSERT INTO "${t.search}" (rowid, doc) SELECT rowid, ${SQLITE_DOC} FROM ${tasks}`,
  ];
}

/**
 * Version 9, MySQL/MariaDB: when each row's words last changed (`written_at`, set by the
 * server on insert and on any real change), indexed. Under concurrent writes MariaDB 10.11's
 * full-text index left a just-committed row out of a MATCH for up to ~70 ms while a plain
 * SELECT already returned it (measured: 8 writers, one miss in ~150 lookups); a lookup also
 * takes the rows written in the last few seconds whose words match, read from `terms` itself.
 */
export function version9(family: SqlFamily, t: SearchTables): string[] {
  if (family !== 'mysql') return [];
  return [
    `ALTER TABLE \`${t.search}\` ADD COLUMN written_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3), ` +
      `ADD KEY \`${t.search}_written\` (written_at)`,
  ];
}

/**
 * Version 10, PostgreSQL: the search index leaves the write path, as SQLite's did at
 * version 7: a side table of the searched texts (its trigram GINs built by
 * ensurePgTrigramIndexes, next) and a queue of changed rows (see pg-search.ts). The rows
 * already there fill the side table; the task table's three GINs are dropped.
 */
export function version10(family: SqlFamily, t: SearchTables): string[] {
  return family === 'postgres' ? pgVersion10(t) : [];
}

const BACKFILL_BATCH = 2000;

/** MySQL/MariaDB, version 7: the words of every row already stored, in batches by id. */
export async function backfillSearch(sql: Sql, t: SearchTables): Promise<void> {
  let after = '';
  for (;;) {
    const found = await sql.run(`SELECT id, search_text, tags, args FROM \`${t.tasks}\` WHERE id > ? ORDER BY id LIMIT ${BACKFILL_BATCH}`, [after]);
    if (!found.rows.length) return;
    await writeTerms(
      sql,
      t,
      found.rows.map((r) => ({ id: String(r.id), doc: searchDocOf(String(r.search_text), String(r.tags), String(r.args)) })),
    );
    after = String(found.rows[found.rows.length - 1].id);
  }
}

const logger = new Logger('TaskflowDatabase');

/**
 * PostgreSQL: the trigram indexes of the search side table, once `pg_trgm` can be had. Runs after every migration
 * (in its transaction): creates the extension when it is missing and this role may (it is
 * a trusted extension: the database's CREATE privilege suffices), else logs why and leaves
 * search to the scan, and builds the indexes at a later start once the extension exists.
 * Returns whether the indexes are there.
 */
export async function ensurePgTrigramIndexes(sql: Sql, t: SearchTables): Promise<boolean> {
  const wanted = pgSearchIndexes(t);
  const present = await sql.run(`SELECT COUNT(*) AS n FROM pg_indexes WHERE schemaname = current_schema() AND indexname IN (?, ?, ?)`, [
    ...wanted.map(([name]) => name),
  ]);
  if (Number(present.rows[0]?.n) === wanted.length) return true;
  let schema = await trgmSchema(sql);
  if (schema === null) {
    await sql.run('SAVEPOINT taskflow_trgm');
    try {
      await sql.run('CREATE EXTENSION IF NOT EXISTS pg_trgm');
      await sql.run('RELEASE SAVEPOINT taskflow_trgm');
      schema = await trgmSchema(sql);
    } catch (error) {
      await sql.run('ROLLBACK TO SAVEPOINT taskflow_trgm');
      logger.warn(
        `Search over ${t.tasks} scans every row: the pg_trgm extension is not installed and could not be created ` +
          `(${error instanceof Error ? error.message : String(error)}). Run CREATE EXTENSION pg_trgm as a privileged role; ` +
          `the next start builds the index.`,
      );
      return false;
    }
  }
  if (schema === null) return false;
  const ops = `"${schema.replace(/"/g, '""')}".gin_trgm_ops`;
  for (const [name, expression] of wanted) {
    await sql.run(`CREATE INDEX IF NOT EXISTS "${name}" ON "${t.search}" USING gin (${expression} ${ops})`);
  }
  return true;
}

async function trgmSchema(sql: Sql): Promise<string | null> {
  const found = await sql.run(
    `SELECT n.nspname AS name FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'`,
  );
  return found.rows.length ? String(found.rows[0].name) : null;
}
