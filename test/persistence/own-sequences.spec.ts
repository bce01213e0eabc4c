import { OwnSequences } from '../../lib/persistence/typeorm/own-sequences';

describe('OwnSequences', () => {
  it('moves a cursor over the own numbers that come next, and no further', () => {
    const own = new OwnSequences();
    for (const n of [5, 6, 8]) own.add(n);
    expect(own.skip({ seq: 4, id: null })).toEqual({ cursor: { seq: 6, id: null }, passed: [5, 6] });
    // 7 is another writer's (or not committed yet): 8 waits behind it.
    expect(own.skip({ seq: 6, id: null })).toEqual({ cursor: { seq: 6, id: null }, passed: [] });
    expect(own.skip({ seq: 7, id: null })).toEqual({ cursor: { seq: 8, id: null }, passed: [8] });
  });

  it('finishes a number of its own that a page ended inside, but not another writer’s', () => {
    const own = new OwnSequences();
    own.add(3);
    own.add(4);
    expect(own.skip({ seq: 2, id: 'x' })).toEqual({ cursor: { seq: 2, id: 'x' }, passed: [] });
    expect(own.skip({ seq: 3, id: 'x' })).toEqual({ cursor: { seq: 4, id: null }, passed: [3, 4] });
  });

  it('remembers a bounded number of them', () => {
    const own = new OwnSequences();
    for (let n = 1; n <= 10_001; n++) own.add(n);
    expect(own.skip({ seq: 0, id: null }).passed).toEqual([]);
    expect(own.skip({ seq: 1, id: null }).passed).toHaveLength(10_000);
  });
});
