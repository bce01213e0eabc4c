/**
 * Trigrams of the search index. The index only narrows the rows a search reads: every
 * row whose text contains the searched substring contains each of its trigrams, so the
 * rows holding all of them are a superset of the answer, and the LIKE filters of
 * query-builder.ts still decide which rows match (the documented semantics, unchanged).
 * A needle of fewer than MIN_INDEXED characters has no trigram: those searches scan.
 */
export const MIN_INDEXED = 3;

/** A row with more distinct trigrams than this is not tokenised on MySQL/MariaDB but always a candidate (see termsOf). */
export const MAX_TERMS_PER_ROW = 1024;

/** Distinct trigrams of `text`, by code point, in order of first appearance. */
export function trigrams(text: string): string[] {
  const chars = Array.from(text);
  const seen = new Set<string>();
  for (let i = 0; i + MIN_INDEXED <= chars.length; i++) seen.add(chars[i] + chars[i + 1] + chars[i + 2]);
  return [...seen];
}

/**
 * The trigrams a lookup asks for: enough to cover every character of the needle
 * (a trigram every 3 characters, and the last one), as each one more intersects one more
 * posting list for ever fewer candidates. Empty below MIN_INDEXED characters.
 */
export function lookupTrigrams(needle: string): string[] {
  const chars = Array.from(needle);
  if (chars.length < MIN_INDEXED) return [];
  const picked = new Set<string>();
  const at = (i: number) => chars[i] + chars[i + 1] + chars[i + 2];
  for (let i = 0; i + MIN_INDEXED <= chars.length; i += MIN_INDEXED) picked.add(at(i));
  picked.add(at(chars.length - MIN_INDEXED));
  return [...picked];
}

/** SQLite FTS5 MATCH expression (trigram tokenizer): each trigram a quoted phrase, all required. */
export function ftsMatch(needle: string): string | null {
  const picked = lookupTrigrams(needle);
  if (!picked.length) return null;
  return picked.map((g) => `"${g.replace(/"/g, '""')}"`).join(' AND ');
}

/**
 * A trigram as a MySQL/MariaDB full-text word: `g` and its 32-bit FNV-1a hash in base 36
 * (letters and digits only, so the built-in parser keeps it whole; MariaDB has no n-gram
 * parser). Two trigrams sharing a word only add candidates, which LIKE then drops.
 */
export function termOf(gram: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < gram.length; i++) {
    h ^= gram.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return `g${(h >>> 0).toString(36).padStart(7, '0')}`;
}

/** What a row stores on MySQL/MariaDB: its words, or null when it has too many (then the row is always a candidate). */
export function termsOf(doc: string): string | null {
  const grams = trigrams(doc.toLowerCase());
  if (grams.length > MAX_TERMS_PER_ROW) return null;
  return [...new Set(grams.map(termOf))].join(' ');
}

/** The words a lookup asks for without a sample to choose by (all required): those of lookupTrigrams. */
export function lookupTerms(needle: string): string[] {
  return [...new Set(lookupTrigrams(needle.toLowerCase()).map(termOf))];
}
