import { Sql } from './connection';
import { Dialect, inList, valuesList } from './dialect';
import { ftsMatch, termsAgainst, termsOf } from './search-terms';

/** The tables of the search index (a subset of TableNames: schema.ts imports this file's users). */
export interface SearchTables {
  tasks: string;
  /** SQLite: the FTS5 table; MySQL/MariaDB: the words of each row. */
  search: string;
  /** SQLite: rows written since the indexer last ran (see search-indexer.ts). */
  searchQueue: string;
}

/** What every row indexes (SQLite): the `q` text, then the tags' and the arguments' JSON, as `search` reads them. */
export const SQLITE_DOC = `search_text || char(31) || tags || char(31) || args`;

/** The same text as MySQL/MariaDB index it, built in JS from the stored column values. */
export function searchDocOf(searchText: string, tags: string, args: string): string {
  return `${searchText}\u001f${tags}\u001f${args}`;
}

/** A condition narrowing a search to the rows the index names (all matches among them), or null: no index for this needle. */
export interface Candidates {
  sql: string;
  params: unknown[];
}

/**
 * The rows that may contain `needle` (lowercased, as LIKE searches it), by the index:
 * SQLite: the FTS5 rows holding its trigrams, plus the rows still queued for the
 * indexer; MySQL/MariaDB: the rows whose words include its trigrams' words, plus those
 * too long to tokenise. PostgreSQL needs none (its trigram indexes serve the LIKE itself).
 */
export function candidatesFor(dialect: Dialect, t: SearchTables, needle: string): Candidates | null {
  if (dialect.family === 'sqlite') {
    const match = ftsMatch(needle);
    if (match === null) return null;
    return {
      sql: `rowid IN (SELECT rowid FROM "${t.search}" WHERE "${t.search}" MATCH ? UNION ALL SELECT task_rowid FROM "${t.searchQueue}")`,
      params: [match],
    };
  }
  if (dialect.family === 'mysql') {
    const against = termsAgainst(needle);
    if (against === null) return null;
    const table = `\`${t.search}\``;
    return {
      sql:
        `id IN (SELECT task_id FROM ${table} WHERE MATCH(terms) AGAINST (? IN BOOLEAN MODE) ` +
        `UNION ALL SELECT task_id FROM ${table} WHERE \`partial\` = 1)`,
      params: [against],
    };
  }
  return null;
}

const ROWS_PER_STATEMENT = 500;

/**
 * The write path's one hook, in the rows' own transaction: `rows` are the parameter lists
 * just written to the task table, in WRITE_COLUMNS order (`columns`). Only MySQL/MariaDB
 * write here (SQLite's triggers queue the rows, PostgreSQL's indexes follow the table).
 */
export async function indexWrittenRows(sql: Sql, t: SearchTables, columns: readonly string[], rows: readonly (readonly unknown[])[]): Promise<void> {
  if (sql.dialect.family !== 'mysql' || !rows.length) return;
  const at = (name: string) => columns.indexOf(name);
  const [id, text, tags, args] = [at('id'), at('search_text'), at('tags'), at('args')];
  await writeTerms(
    sql,
    t,
    rows.map((r) => ({ id: String(r[id]), doc: searchDocOf(String(r[text]), String(r[tags]), String(r[args])) })),
  );
}

/** MySQL/MariaDB: each row's words (replacing what it had; an unchanged value writes nothing). */
export async function writeTerms(sql: Sql, t: SearchTables, docs: { id: string; doc: string }[]): Promise<void> {
  for (let i = 0; i < docs.length; i += ROWS_PER_STATEMENT) {
    const chunk = docs.slice(i, i + ROWS_PER_STATEMENT);
    const params: unknown[] = [];
    for (const { id, doc } of chunk) {
      const terms = termsOf(doc);
      params.push(id, terms ?? '', terms === null ? 1 : 0);
    }
    await sql.run(
      `INSERT INTO \`${t.search}\` (task_id, terms, \`partial\`) VALUES ${valuesList(3, chunk.length)} ` +
        'ON DUPLICATE KEY UPDATE terms = VALUES(terms), `partial` = VALUES(`partial`)',
      params,
    );
  }
}

/** MySQL/MariaDB: the words of deleted rows, in the deleting transaction (SQLite's trigger queues them). */
export async function unindexRows(sql: Sql, t: SearchTables, ids: readonly string[]): Promise<void> {
  if (sql.dialect.family !== 'mysql' || !ids.length) return;
  await sql.run(`DELETE FROM \`${t.search}\` WHERE task_id IN (${inList(ids.length)})`, [...ids]);
}
