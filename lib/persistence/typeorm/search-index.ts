import { Sql } from './connection';
import type { EachOptions } from './sql';
import { inList, valuesList } from './dialect';
import { pgCandidates, pgUnindex, SearchColumn } from './pg-search';
import { chooseWords, WordRarity } from './search-rarity';
import { ftsMatch, lookupTerms, lookupTrigrams, termOf, termsOf, trigrams } from './search-terms';

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
 * The candidates for one needle (lowercased), searched with the LIKE `pattern` (as the
 * filter binds it) in `columns`, or null: no index for it, the search scans.
 */
export type CandidatesOf = (needle: string, pattern: string, columns: readonly SearchColumn[]) => Candidates | null;

/** MySQL/MariaDB: past this many candidates a search scans instead (an IN list of them would cost more). */
const MAX_LISTED_CANDIDATES = 10_000;

/**
 * MySQL/MariaDB: rows whose words changed this recently are matched on their `terms` text
 * too, not only through the full-text index, which can leave a just-committed row out for
 * tens of ms (see version9). The window is counted from the write's statement, so it also
 * covers the transaction's time to commit.
 */
export const RECENT_WRITE_SECONDS = 5;

/**
 * The rows that may contain each needle (lowercased, as LIKE searches it), by the index:
 * SQLite: the FTS5 rows holding its trigrams, plus the rows still queued for the indexer
 * (a subquery); MySQL/MariaDB: the ids of the rows whose words include its rarest trigrams'
 * words (chosen on `rarity`'s sample; without one, a trigram every 3 characters), plus
 * those too long to tokenise and those whose words changed in the last RECENT_WRITE_SECONDS
 * and hold the same words in `terms`, looked up first and listed (as a subquery, MariaDB ran it
 * once per row of the created_at index); none when the sample says more rows than the list
 * takes hold them all (the scan then costs less than the lookup would). PostgreSQL: the
 * side table's rows whose `columns` match the LIKE `pattern`, plus the queued rows (see pg-search.ts).
 */
export async function candidateLookup(sql: Sql, t: SearchTables, needles: string[], rarity?: WordRarity): Promise<CandidatesOf> {
  const dialect = sql.dialect;
  if (dialect.family === 'postgres') return (_needle, pattern, columns) => pgCandidates(t, pattern, columns);
  if (dialect.family === 'sqlite') {
    return (needle) => {
      const match = ftsMatch(needle);
      if (match === null) return null;
      return {
        sql: `rowid IN (SELECT rowid FROM "${t.search}" WHERE "${t.search}" MATCH ? UNION ALL SELECT task_rowid FROM "${t.searchQueue}")`,
        params: [match],
      };
    };
  }
  const listed = new Map<string, Candidates | null>();
  if (dialect.family === 'mysql') {
    const indexed = needles.filter((needle) => lookupTrigrams(needle).length > 0);
    const sample = indexed.length && rarity ? await rarity.current(sql, t.search) : null;
    for (const needle of indexed) {
      if (listed.has(needle)) continue;
      const choice = chooseWords(trigrams(needle.toLowerCase()).map(termOf), sample);
      if (choice && choice.estimate > MAX_LISTED_CANDIDATES) {
        listed.set(needle, null);
        continue;
      }
      const words = choice ? choice.words : lookupTerms(needle);
      const table = `\`${t.search}\``;
      const found = await sql.run(
        `SELECT task_id FROM ((SELECT task_id FROM ${table} WHERE MATCH(terms) AGAINST (? IN BOOLEAN MODE)) ` +
          `UNION ALL (SELECT task_id FROM ${table} WHERE \`partial\` = 1) ` +
          // Words are 8 letters and digits between spaces: INSTR finds only whole ones.
          `UNION ALL (SELECT task_id FROM ${table} WHERE written_at >= NOW(3) - INTERVAL ${RECENT_WRITE_SECONDS} SECOND` +
          `${words.map(() => ' AND INSTR(terms, ?) > 0').join('')})) AS c LIMIT ${MAX_LISTED_CANDIDATES + 1}`,
        [words.map((w) => `+${w}`).join(' '), ...words],
      );
      // A recent row the index already names comes twice.
      const ids = [...new Set(found.rows.map((r) => String(r.task_id)))];
      // Fewer rows than the sample itself holds with these words: the index is not to be
      // trusted for this needle (once seen in CI: none of 113 rows named), so it scans.
      if (found.rows.length > MAX_LISTED_CANDIDATES || (choice !== null && ids.length < choice.sampled)) listed.set(needle, null);
      else listed.set(needle, ids.length ? { sql: `id IN (${inList(ids.length)})`, params: ids } : { sql: '1 = 0', params: [] });
    }
  }
  return (needle) => listed.get(needle) ?? null;
}

/**
 * The write path's one hook, in the rows' own transaction: `write` writes `rows`, parameter
 * lists in the order of `columns` (WRITE_COLUMNS), as new rows or (`replace`) over stored ones.
 * SQLite: queues the new rows, and the stored ones whose searched text is about to change
 * (compared before the write; progress and status updates queue nothing), for the indexer.
 * MySQL/MariaDB: writes each row's words (an unchanged value writes nothing). PostgreSQL:
 * nothing here (its row write queues the rows in the same statement: pg-search.ts). `write` passes `options` on to runEach: SQLite
 * queues new rows by the rowids the insert took (EachOptions.insertedRange), in the same
 * message to the writer thread and without a lookup of each row by its id. On a pipelined
 * Sql, every statement is issued before the first await: the caller lets `rows` go then.
 */
export async function writeIndexed(
  sql: Sql,
  t: SearchTables,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
  replace: boolean,
  write: (options?: EachOptions) => Promise<unknown>,
): Promise<void> {
  const family = sql.dialect.family;
  if (!rows.length || family === 'postgres') {
    await write();
    return;
  }
  const at = (name: string) => columns.indexOf(name);
  const [id, text, tags, args] = [at('id'), at('search_text'), at('tags'), at('args')];
  if (family === 'mysql') {
    await write();
    await writeTerms(
      sql,
      t,
      rows.map((r) => ({ id: String(r[id]), doc: searchDocOf(String(r[text]), String(r[tags]), String(r[args])) })),
    );
    return;
  }
  const queue = `INSERT OR IGNORE INTO "${t.searchQueue}" (task_rowid, indexed) SELECT rowid`;
  if (replace) {
    const queued = each(
      sql,
      `${queue}, 1 FROM "${t.tasks}" WHERE id = ? AND (search_text IS NOT ? OR tags IS NOT ? OR args IS NOT ?)`,
      rows.map((r) => [r[id], r[text], r[tags], r[args]]),
    );
    if (sql.pipelined) {
      // Sent together: the thread runs them in order, the lookup before the write.
      await Promise.all([queued, write()]);
      return;
    }
    await queued;
    await write();
    return;
  }
  if (sql.runEach) {
    await write({ insertedRange: `${queue}, 0 FROM "${t.tasks}" WHERE rowid BETWEEN ? AND ?` });
    return;
  }
  await write();
  await each(
    sql,
    `${queue}, 0 FROM "${t.tasks}" WHERE id = ?`,
    rows.map((r) => [r[id]]),
  );
}

const ROWS_PER_STATEMENT = 500;

async function each(sql: Sql, statement: string, params: unknown[][]): Promise<void> {
  if (sql.runEach) {
    await sql.runEach(statement, params);
    return;
  }
  for (const p of params) await sql.run(statement, p);
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

/**
 * Rows about to be deleted, in the deleting transaction: MySQL/MariaDB drops their words,
 * SQLite queues their rowids and PostgreSQL their ids, so that the indexer drops their text from the index.
 */
export async function unindexRows(sql: Sql, t: SearchTables, ids: readonly string[]): Promise<void> {
  if (!ids.length) return;
  if (sql.dialect.family === 'mysql') {
    await sql.run(`DELETE FROM \`${t.search}\` WHERE task_id IN (${inList(ids.length)})`, [...ids]);
  } else if (sql.dialect.family === 'postgres') {
    await sql.run(pgUnindex(t, ids.length), [...ids]);
  } else if (sql.dialect.family === 'sqlite') {
    await sql.run(
      `INSERT OR IGNORE INTO "${t.searchQueue}" (task_rowid, indexed) SELECT rowid, 1 FROM "${t.tasks}" WHERE id IN (${inList(ids.length)})`,
      [...ids],
    );
  }
}
