import { ChangeGaps } from '../../lib/persistence/change-gaps';

describe('ChangeGaps', () => {
  it('watches the numbers a page skipped until they fill or expire, never those below the start', () => {
    const gaps = new ChangeGaps(5000, 100);
    gaps.start(10);
    gaps.see([9, 11, 14, 14, 15], 1000);
    expect(gaps.waiting(1000)).toEqual([12, 13]);
    gaps.filled([12]);
    expect(gaps.waiting(2000)).toEqual([13]);
    // Seen on a later page (its transaction committed): no longer a gap.
    gaps.see([13, 16], 3000);
    expect(gaps.waiting(3000)).toEqual([]);
    gaps.see([18], 4000);
    expect(gaps.waiting(9000)).toEqual([17]);
    expect(gaps.waiting(9001)).toEqual([]);
  });

  it('watches at most `max`, the newest', () => {
    const gaps = new ChangeGaps(5000, 3);
    gaps.start(0);
    gaps.see([100], 0);
    expect(gaps.waiting(0)).toEqual([97, 98, 99]);
    gaps.see([102], 0);
    expect(gaps.waiting(0)).toEqual([98, 99, 101]);
  });
});
