import { chooseWords, WordSample } from '../../lib/persistence/typeorm/search-rarity';

/** Sampled rows: `common` in all of them, `half` in every other one, `rare` in one, `absent` in none. */
function sample(size: number, tableRows: number): WordSample {
  return new WordSample(
    Array.from({ length: size }, (_, i) => ['common', ...(i % 2 ? ['half'] : []), ...(i === 7 ? ['rare'] : [])]),
    tableRows,
  );
}

describe('search word rarity (MySQL/MariaDB)', () => {
  it('has no choice without a sample, or with an empty one (the lookup then asks for its usual words)', () => {
    expect(chooseWords(['common'], null)).toBeNull();
    expect(chooseWords(['common'], new WordSample([], 0))).toBeNull();
    expect(chooseWords([], sample(10, 10))).toBeNull();
  });

  it('asks for the rarest word first and leaves out words in nearly every row', () => {
    const choice = chooseWords(['common', 'half', 'rare'], sample(2000, 1_000_000))!;
    expect(choice.words[0]).toBe('rare');
    expect(choice.words).not.toContain('common');
    // One sampled row of 2,000 stands for 500 of 1M.
    expect(choice.estimate).toBeLessThanOrEqual(500);
  });

  it('takes a word the sample never saw as the rarest', () => {
    expect(chooseWords(['common', 'absent', 'rare'], sample(2000, 1_000_000))!.words[0]).toBe('absent');
  });

  it('adds a word that removes many rows, not one that removes none', () => {
    // `half` halves the 1M rows `common` holds; `common` after it removes nothing.
    const choice = chooseWords(['common', 'half'], sample(2000, 1_000_000))!;
    expect(choice.words).toEqual(['half']);
    expect(choice.estimate).toBe(500_000);
    const rows = new WordSample(
      Array.from({ length: 2000 }, (_, i) => [...(i % 10 === 1 ? ['x'] : []), ...(i % 2 ? [] : ['y']), ...(i % 100 === 0 ? ['z'] : [])]),
      1_000_000,
    );
    // `z` (1% of rows) first; `y` (half) holds every `z` row and removes none, `x` (10%) none of them: removes all.
    expect(chooseWords(['y', 'x', 'z'], rows)!.words).toEqual(['z', 'x']);
  });

  it('estimates every row for words in all of them (the caller scans instead)', () => {
    expect(chooseWords(['common'], sample(2000, 1_000_000))!.estimate).toBe(1_000_000);
  });
});
