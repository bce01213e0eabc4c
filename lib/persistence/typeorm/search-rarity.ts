import { Sql } from './connection';

/**
 * MySQL/MariaDB: how common each full-text word of the search index is, from a sample of
 * its rows, so that a lookup asks for the needle's rarest words only. InnoDB reads every
 * word's whole posting list and fetches each row the boolean AND leaves, so a common word
 * (one in every failed row) cost tens of ms at 1M rows while adding nothing to a rare one.
 * The sample is an estimate for every needle alike (no answer is cached): a stale or
 * skewed one only picks worse words, never other rows, as the LIKE still decides.
 */

/** Rows sampled: SAMPLE_PROBES runs of ROWS_PER_PROBE consecutive ids from random starts. */
const SAMPLE_PROBES = 16;
const ROWS_PER_PROBE = 128;
export const SAMPLE_ROWS = SAMPLE_PROBES * ROWS_PER_PROBE;

/** A full sample is retaken after this long; one of a smaller table (the whole table) sooner. */
const SAMPLE_MAX_AGE_MS = 10 * 60_000;
const SMALL_SAMPLE_MAX_AGE_MS = 10_000;

/**
 * Cost of a row the lookup returns against one entry of a posting list intersected with it:
 * on MariaDB 10.11 at 1M rows a returned row cost 20-120 µs, a posting list 0.1-0.6 µs an
 * entry (bench/NOTES.md, "MariaDB search"). A word is added while the rows it removes cost
 * more than its list; 40 and 200 measured alike.
 */
const ROW_COST_IN_POSTINGS = 100;

/** The sampled rows' words and how many rows the index held when sampled (an estimate past SAMPLE_ROWS). */
export class WordSample {
  private readonly rowsOf = new Map<string, number[]>();
  readonly size: number;

  constructor(
    docs: readonly (readonly string[])[],
    readonly tableRows: number,
    readonly takenAt = 0,
  ) {
    docs.forEach((words, row) => {
      for (const word of words) {
        const rows = this.rowsOf.get(word);
        if (rows) rows.push(row);
        else this.rowsOf.set(word, [row]);
      }
    });
    this.size = docs.length;
  }

  /** The sampled rows holding `word`, ascending. */
  rows(word: string): readonly number[] {
    return this.rowsOf.get(word) ?? NONE;
  }
}

const NONE: readonly number[] = [];

/** What a lookup asks for: `words`, all required, and about how many rows hold them all. */
export interface WordChoice {
  words: string[];
  estimate: number;
  /** How many of the sampled rows hold them all: rows the index must name too (unless deleted since). */
  sampled: number;
}

/**
 * Rarest first: the needle's rarest word, then each next one whose posting list costs less
 * than the rows it removes (estimated on the sample; below its resolution, as if
 * independent). In that order InnoDB intersects them, each list only against the rows
 * left. Null without a sample to judge by.
 */
export function chooseWords(words: readonly string[], sample: WordSample | null): WordChoice | null {
  const distinct = [...new Set(words)];
  if (!sample || sample.size === 0 || !distinct.length) return null;
  const scale = Math.max(sample.tableRows, sample.size) / sample.size;
  const rowsOf = (word: string) => sample.rows(word).length;
  const order = distinct.sort((a, b) => rowsOf(a) - rowsOf(b));
  let held = sample.rows(order[0]);
  // A word missing from the sample holds fewer than `scale` rows: half of that, say.
  let estimate = Math.max(held.length, 0.5) * scale;
  const chosen = [order[0]];
  for (const word of order.slice(1)) {
    const postings = Math.max(rowsOf(word), 0.5) * scale;
    const both = intersect(held, sample.rows(word));
    const after = both.length ? both.length * scale : Math.min(estimate, 0.5 * scale) * (postings / (sample.size * scale));
    // Not `break`: a rarer word may remove nothing (' #4' after '#42') and a later one most.
    if ((estimate - after) * ROW_COST_IN_POSTINGS <= postings) continue;
    chosen.push(word);
    held = both;
    estimate = after;
  }
  return { words: chosen, estimate, sampled: held.length };
}

function intersect(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push(a[i]);
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return out;
}

/**
 * One backend's sample of its index table: the first lookup takes it (and waits for it), a
 * lookup that finds it old has it retaken in the background through `read` and goes on
 * with the old one.
 */
export class WordRarity {
  private sample: WordSample | null = null;
  private taking: Promise<WordSample | null> | null = null;

  constructor(
    private readonly read: <T>(fn: (sql: Sql) => Promise<T>) => Promise<T>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The sample to choose words by; null when none could be taken. */
  async current(sql: Sql, table: string): Promise<WordSample | null> {
    const sample = this.sample;
    if (!sample) return this.take((fn) => fn(sql), table);
    const maxAge = sample.size >= SAMPLE_ROWS ? SAMPLE_MAX_AGE_MS : SMALL_SAMPLE_MAX_AGE_MS;
    if (this.now() - sample.takenAt >= maxAge) void this.take(this.read, table);
    return sample;
  }

  private take(read: <T>(fn: (sql: Sql) => Promise<T>) => Promise<T>, table: string): Promise<WordSample | null> {
    // A failed sample keeps the one before (or none: the lookup then asks for its usual words).
    this.taking ??= Promise.resolve()
      .then(() => read((sql) => takeSample(sql, table, this.now())))
      .then((taken) => (this.sample = taken))
      .catch(() => this.sample)
      .finally(() => (this.taking = null));
    return this.taking;
  }
}

/**
 * SAMPLE_ROWS rows of `table`: all of them when it holds no more, else runs of consecutive
 * task ids from random hexadecimal starting points (task ids are UUIDs: the runs fall
 * anywhere in the history; ids of another shape give fewer distinct rows, a coarser estimate).
 */
async function takeSample(sql: Sql, table: string, takenAt: number): Promise<WordSample> {
  const t = `\`${table}\``;
  const small = await sql.run(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${t} LIMIT ${SAMPLE_ROWS + 1}) AS h`);
  if (Number(small.rows[0]?.n) <= SAMPLE_ROWS) {
    const all = await sql.run(`SELECT terms FROM ${t}`);
    return new WordSample(all.rows.map(wordsOf), all.rows.length, takenAt);
  }
  const stats = await sql.run(`SELECT table_rows AS n FROM information_schema.TABLES WHERE table_schema = DATABASE() AND table_name = ?`, [table]);
  const docs = new Map<string, string[]>();
  for (let i = 0; i < SAMPLE_PROBES; i++) {
    const start = Math.floor(Math.random() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
    const run = await sql.run(`SELECT task_id, terms FROM ${t} WHERE task_id >= ? ORDER BY task_id LIMIT ${ROWS_PER_PROBE}`, [start]);
    for (const row of run.rows) docs.set(String(row.task_id), wordsOf(row));
  }
  return new WordSample([...docs.values()], Math.max(Number(stats.rows[0]?.n) || 0, docs.size), takenAt);
}

function wordsOf(row: Record<string, unknown>): string[] {
  const terms = String(row.terms);
  return terms ? terms.split(' ') : [];
}
