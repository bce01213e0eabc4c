/**
 * The backend's half of flow control, on each real database: concurrency slots held by
 * a live instance and freed by release or by the holder's lease ending; rate rows that
 * free a window after the start they recorded; the paused set; and the schema step that
 * adds their tables to an existing database in place.
 */
import { randomUUID } from 'node:crypto';
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { Dialect } from '../../lib/persistence/typeorm/dialect';
import { SCHEMA_VERSION, tableNames } from '../../lib/persistence/typeorm/schema';
import { GateClaim } from '../../lib/storage/gate-claims';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { familyOf, seedOldDatabase } from '../support/old-schema';
import { dropTaskTables } from '../support/persistent-app';

describeEachDatabase('flow-control rows', (target) => {
  const prefix = uniquePrefix();
  let backend: TypeOrmTaskBackend;

  beforeAll(async () => {
    backend = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
    await backend.open();
    await backend.heartbeat('A', 30);
    await backend.heartbeat('B', 30);
  });
  afterAll(async () => {
    await backend.dropTables();
    await backend.close();
  });

  const slots = (funcName: string, n: number): GateClaim => ({ funcName, concurrency: n, rate: null, now: Date.now() });

  it('grants a concurrency slot per claim up to the limit, across holders, and again once one is released', async () => {
    const first = await backend.claimGate('A', slots('F.two', 2));
    const second = await backend.claimGate('B', slots('F.two', 2));
    expect([first.granted, second.granted]).toEqual([true, true]);
    if (!first.granted || !second.granted) return;
    expect(new Set([first.slot, second.slot])).toEqual(new Set([0, 1]));
    expect(await backend.claimGate('A', slots('F.two', 2))).toEqual({ granted: false, limit: 'concurrency', retryInMs: null });
    // Another holder's release does not touch this one's slot.
    await backend.releaseGateSlot('A', 'F.two', second.slot!);
    expect((await backend.claimGate('A', slots('F.two', 2))).granted).toBe(false);
    await backend.releaseGateSlot('B', 'F.two', second.slot!);
    expect(await backend.claimGate('A', slots('F.two', 2))).toEqual({ granted: true, slot: second.slot, rateSlot: null });
  });

  it("frees a slot whose holder's lease ended", async () => {
    await backend.heartbeat('dying', 30);
    expect((await backend.claimGate('dying', slots('F.one', 1))).granted).toBe(true);
    expect((await backend.claimGate('A', slots('F.one', 1))).granted).toBe(false);
    await backend.heartbeat('dying', -1);
    expect((await backend.claimGate('A', slots('F.one', 1))).granted).toBe(true);
  });

  it('grants at most max starts per window, says when the next row frees, and counts the settled start times', async () => {
    const t0 = Date.now();
    const rated = (now: number, key = 'k'): GateClaim => ({ funcName: 'F.rated', concurrency: null, rate: { key, max: 2, windowMs: 1000 }, now });
    const a = await backend.claimGate('A', rated(t0));
    const b = await backend.claimGate('B', rated(t0 + 10));
    expect([a.granted, b.granted]).toEqual([true, true]);
    if (!a.granted || !b.granted) return;
    // Reserved until settled; one settled later than its claim frees later too.
    await backend.settleRateSlot('A', 'F.rated', 'k', a.rateSlot!, t0 + 100, 1000);
    await backend.settleRateSlot('B', 'F.rated', 'k', b.rateSlot!, t0 + 20, 1000);
    const refused = await backend.claimGate('A', rated(t0 + 500));
    expect(refused).toEqual({ granted: false, limit: 'rate', retryInMs: 520 });
    // Another key has its own rows.
    expect((await backend.claimGate('A', rated(t0 + 500, 'other'))).granted).toBe(true);
    const third = await backend.claimGate('A', rated(t0 + 1020));
    expect(third).toMatchObject({ granted: true, rateSlot: b.rateSlot });
    expect((await backend.claimGate('A', rated(t0 + 1050))).granted).toBe(false);
    // A reservation that never started frees its row at once.
    await backend.settleRateSlot('A', 'F.rated', 'k', (third as { rateSlot: number }).rateSlot, null, 1000);
    expect((await backend.claimGate('A', rated(t0 + 1050))).granted).toBe(true);
  });

  it('takes both limits or neither', async () => {
    const both = (now: number): GateClaim => ({ funcName: 'F.both', concurrency: 1, rate: { key: '', max: 1, windowMs: 60_000 }, now });
    const first = await backend.claimGate('A', both(Date.now()));
    expect(first).toEqual({ granted: true, slot: 0, rateSlot: 0 });
    await backend.releaseGateSlot('A', 'F.both', 0);
    // The slot is free but the window is not: refused, and the slot stays free for others.
    expect(await backend.claimGate('A', both(Date.now()))).toMatchObject({ granted: false, limit: 'rate' });
    expect((await backend.claimGate('B', slots('F.both', 1))).granted).toBe(true);
  });

  it('stores the paused set, idempotently', async () => {
    await backend.setPaused('F.p', true);
    await backend.setPaused('F.p', true);
    await backend.setPaused('F.q', true);
    expect((await backend.pausedFunctions()).sort()).toEqual(['F.p', 'F.q']);
    await backend.setPaused('F.p', false);
    await backend.setPaused('F.p', false);
    expect(await backend.pausedFunctions()).toEqual(['F.q']);
  });

  it('prunes rows unused since a time, and makes them again on the next claim', async () => {
    const claim: GateClaim = { funcName: 'F.pruned', concurrency: null, rate: { key: 'x', max: 3, windowMs: 10 }, now: Date.now() - 60_000 };
    const granted = await backend.claimGate('A', claim);
    if (!granted.granted) throw new Error('not granted');
    await backend.settleRateSlot('A', 'F.pruned', 'x', granted.rateSlot!, claim.now, 10);
    expect(await backend.pruneGateSlots(Date.now() - 1000)).toBeGreaterThanOrEqual(3);
    expect((await backend.claimGate('A', { ...claim, now: Date.now() })).granted).toBe(true);
  });
});

describeEachDatabase('schema upgrade to version 6', (target) => {
  const prefix = uniquePrefix();
  afterAll(() => dropTaskTables(target.options, prefix));

  it('adds the paused and gate tables to a version 3 database in place, keeping its rows', async () => {
    const t = tableNames(prefix);
    const q = (name: string) => new Dialect(familyOf(target)).id(name);
    const oldId = randomUUID();
    await seedOldDatabase(target, prefix, 3, (query) =>
      query(
        `INSERT INTO ${q(t.tasks)} (id, func_name, status, created_at, retries_used, source, durable, version, tags, search_text, args, logs) ` +
          `VALUES ('${oldId}', 'Old.task', 'success', ${Date.now()}, 0, 'manual', 0, 1, '{}', 'old', '[]', '[]')`,
      ),
    );

    const backend = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
    await backend.open();
    try {
      const version = await backend.source.query(`SELECT value FROM ${q(t.meta)} WHERE name = 'schema_version'`);
      expect(String(version[0].value)).toBe(String(SCHEMA_VERSION));
      expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(6);
      await backend.setPaused('Old.task', true);
      expect(await backend.pausedFunctions()).toEqual(['Old.task']);
      await backend.heartbeat('A', 30);
      expect((await backend.claimGate('A', { funcName: 'Old.task', concurrency: 1, rate: null, now: Date.now() })).granted).toBe(true);
      expect((await backend.getTask(oldId))?.funcName).toBe('Old.task');
    } finally {
      await backend.close();
    }
  });
});
