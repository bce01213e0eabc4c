import { ftsMatch, lookupTrigrams, MAX_TERMS_PER_ROW, lookupTerms, termOf, termsOf, trigrams } from '../../lib/persistence/typeorm/search-terms';

/** The trigram logic of the search index: a row holding the needle always holds every trigram looked up. */
describe('search trigrams', () => {
  it('takes distinct trigrams by code point', () => {
    expect(trigrams('abcab')).toEqual(['abc', 'bca', 'cab']);
    expect(trigrams('aaaa')).toEqual(['aaa']);
    expect(trigrams('ab')).toEqual([]);
    // One code point each, not UTF-16 halves.
    expect(trigrams('x😀yz')).toEqual(['x😀y', '😀yz']);
  });

  it('looks up trigrams covering every character of the needle, all of them trigrams of the needle', () => {
    for (const needle of ['abc', 'abcd', 'bad input #4242', 'ünïcødé', '%_!"\'', 'a😀b😀c']) {
      const picked = lookupTrigrams(needle);
      const all = new Set(trigrams(needle));
      expect(picked.length).toBeGreaterThan(0);
      for (const g of picked) expect(all.has(g)).toBe(true);
      const chars = Array.from(needle);
      const covered = new Set<number>();
      for (const g of picked) {
        // Every position where this trigram starts covers its three characters.
        for (let i = 0; i + 3 <= chars.length; i++) if (chars.slice(i, i + 3).join('') === g) [i, i + 1, i + 2].forEach((c) => covered.add(c));
      }
      expect(covered.size).toBe(chars.length);
    }
  });

  it('has no lookup below three characters (those searches scan)', () => {
    expect(lookupTrigrams('ab')).toEqual([]);
    expect(ftsMatch('ab')).toBeNull();
    expect(lookupTerms('a😀')).toEqual([]);
  });

  it('quotes FTS5 phrases, doubling quotes', () => {
    expect(ftsMatch('a"bc')).toBe('"a""b" AND """bc"');
    expect(ftsMatch('abc')).toBe('"abc"');
  });

  it('makes full-text words of letters and digits only, the same for the row and the lookup', () => {
    for (const g of ['abc', '%_!', '"\'`', '😀ab', '   ']) expect(termOf(g)).toMatch(/^g[0-9a-z]{7}$/);
    const doc = 'id-1\u001fmail.send\u001f{"tenant":"acme"}';
    const words = new Set(termsOf(doc)!.split(' '));
    const asked = lookupTerms('tenant":"ac');
    expect(asked.length).toBeGreaterThan(0);
    for (const word of asked) expect(words.has(word)).toBe(true);
  });

  it('leaves rows with too many trigrams untokenised (always candidates)', () => {
    const long = Array.from({ length: MAX_TERMS_PER_ROW + 10 }, (_, i) => String.fromCharCode(0x4e00 + i)).join('');
    expect(termsOf(long)).toBeNull();
    expect(termsOf('short text')).not.toBeNull();
  });
});
