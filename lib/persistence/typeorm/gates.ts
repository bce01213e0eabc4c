import { createHash } from 'node:crypto';
import { GateAnswer, GateClaim } from '../../storage/gate-claims';
import { Connection, Sql } from './connection';
import { TableNames } from './schema';
import { num } from './task-rows';

/**
 * Flow control across instances, in `<prefix>gate_slots`. Each limit of a function is a
 * set of rows `(gate, slot)`, created on first use:
 *
 * - concurrency: `slot` 0..n-1. Taken: `held = 1` and `holder` = the instance. Free when
 *   not held, or when the holder's lease has ended (by the database's clock), so a dead
 *   instance's slots come back once its lease expires.
 * - rate limit (one `gate` per key): `slot` 0..max-1, each the latest start it recorded.
 *   Reserved by a claim (`held = 1`, `free_at` = claim time + window), then settled with
 *   the task's real start (`held = 0`, `free_at` = start + window). Free once `free_at` is
 *   past; a reservation never settled (its instance died between) frees RESERVATION_GRACE_MS later.
 *
 * Rate rows compare the callers' clocks (the records' start times are theirs too): keep
 * instance clocks in sync to well under the window.
 */
const RESERVATION_GRACE_MS = 30_000;
/** Slot rows created per statement. */
const INSERT_CHUNK = 500;
/** A refused rate claim is tried again no sooner than this (a free row may be locked by another claim). */
const MIN_RETRY_MS = 10;

/** The `gate` of a function's concurrency, or of one key of its rate limit: a fixed-size hash. */
export function gateId(kind: 'concurrency' | 'rate', funcName: string, key = ''): string {
  return createHash('sha256').update(`${kind}\u0000${funcName}\u0000${key}`).digest('hex');
}

/** Takes a concurrency slot and reserves a rate row, both or neither, in one transaction. */
export async function claimGate(connection: Connection, t: TableNames, holder: string, claim: GateClaim): Promise<GateAnswer> {
  return connection.transaction(async (sql) => {
    const table = sql.dialect.id(t.gateSlots);
    const me = sql.dialect.text(holder);
    let slot: number | null = null;
    if (claim.concurrency !== null) {
      const gate = gateId('concurrency', claim.funcName);
      const lease = `SELECT 1 FROM ${sql.dialect.id(t.instances)} i WHERE i.id = g.holder AND i.lease_until >= ${sql.dialect.nowMs}`;
      slot = await pick(sql, t, gate, claim.funcName, claim.concurrency, `(g.held = 0 OR NOT EXISTS (${lease}))`, []);
      if (slot === null) return { granted: false, limit: 'concurrency', retryInMs: null };
    }
    let rateSlot: number | null = null;
    if (claim.rate !== null) {
      const { key, max, windowMs } = claim.rate;
      const gate = gateId('rate', claim.funcName, key);
      const free = `((g.held = 0 AND g.free_at <= ?) OR (g.held = 1 AND g.free_at <= ?))`;
      rateSlot = await pick(sql, t, gate, claim.funcName, max, free, [claim.now, claim.now - RESERVATION_GRACE_MS]);
      if (rateSlot === null) {
        const next = await sql.run(`SELECT MIN(free_at) AS next FROM ${table} WHERE gate = ? AND slot < ?`, [gate, max]);
        const at = num(next.rows[0]?.next) ?? claim.now;
        return { granted: false, limit: 'rate', retryInMs: Math.max(MIN_RETRY_MS, at - claim.now) };
      }
      await sql.run(`UPDATE ${table} SET held = 1, holder = ?, free_at = ? WHERE gate = ? AND slot = ?`, [me, claim.now + windowMs, gate, rateSlot]);
    }
    if (slot !== null) {
      await sql.run(`UPDATE ${table} SET held = 1, holder = ?, free_at = ? WHERE gate = ? AND slot = ?`, [
        me,
        claim.now,
        gateId('concurrency', claim.funcName),
        slot,
      ]);
    }
    return { granted: true, slot, rateSlot };
  });
}

/**
 * The lowest free slot of a gate, locked for this transaction (rows another claim holds
 * are skipped). A gate with fewer rows than `size` (first use, or pruned) gets them first.
 */
async function pick(sql: Sql, t: TableNames, gate: string, funcName: string, size: number, free: string, params: unknown[]): Promise<number | null> {
  const table = sql.dialect.id(t.gateSlots);
  const select = `SELECT g.slot FROM ${table} g WHERE g.gate = ? AND g.slot < ? AND ${free} ORDER BY g.slot LIMIT 1${sql.dialect.forUpdateSkipLocked}`;
  const found = await sql.run(select, [gate, size, ...params]);
  if (found.rows.length) return Number(found.rows[0].slot);
  const count = await sql.run(`SELECT COUNT(*) AS n FROM ${table} WHERE gate = ? AND slot < ?`, [gate, size]);
  if ((num(count.rows[0]?.n) ?? 0) >= size) return null;
  const name = sql.dialect.text(funcName);
  for (let from = 0; from < size; from += INSERT_CHUNK) {
    const rows = Math.min(INSERT_CHUNK, size - from);
    const values = Array.from({ length: rows }, (_, i) => [gate, from + i, name, null, 0, 0]).flat();
    await sql.run(
      sql.dialect.insertIgnoring(t.gateSlots, ['gate', 'slot', 'func_name', 'holder', 'held', 'free_at'], ['gate', 'slot'], rows),
      values,
    );
  }
  const again = await sql.run(select, [gate, size, ...params]);
  return again.rows.length ? Number(again.rows[0].slot) : null;
}

/** Records the real start of a reserved rate row (`startedAt` null: it never started, and the row is free again). */
export async function settleRateSlot(
  connection: Connection,
  t: TableNames,
  holder: string,
  funcName: string,
  key: string,
  slot: number,
  startedAt: number | null,
  windowMs: number,
): Promise<void> {
  await connection.session(async (sql) => {
    await sql.run(`UPDATE ${sql.dialect.id(t.gateSlots)} SET held = 0, free_at = ? WHERE gate = ? AND slot = ? AND holder = ? AND held = 1`, [
      startedAt === null ? 0 : startedAt + windowMs,
      gateId('rate', funcName, key),
      slot,
      sql.dialect.text(holder),
    ]);
  });
}

/** Gives back a concurrency slot, unless another instance took it meanwhile (this one's lease had ended). */
export async function releaseGateSlot(connection: Connection, t: TableNames, holder: string, funcName: string, slot: number): Promise<void> {
  await connection.session(async (sql) => {
    await sql.run(`UPDATE ${sql.dialect.id(t.gateSlots)} SET held = 0, holder = NULL WHERE gate = ? AND slot = ? AND holder = ?`, [
      gateId('concurrency', funcName),
      slot,
      sql.dialect.text(holder),
    ]);
  });
}

/** Deletes rows free since before `before` (epoch ms): idle keys do not pile up (rows are made again on use). */
export async function pruneGateSlots(connection: Connection, t: TableNames, before: number): Promise<number> {
  return connection.session(async (sql) => {
    const result = await sql.run(`DELETE FROM ${sql.dialect.id(t.gateSlots)} WHERE held = 0 AND free_at < ?`, [before]);
    return result.affected;
  });
}

/** The paused function names. */
export async function pausedFunctions(connection: Connection, t: TableNames): Promise<string[]> {
  return connection.read(async (sql) => {
    const result = await sql.run(`SELECT func_name FROM ${sql.dialect.id(t.paused)}`, []);
    return result.rows.map((r) => String(r.func_name));
  });
}

/** Pauses (a row) or resumes (no row) a function; either is idempotent. */
export async function setPaused(connection: Connection, t: TableNames, funcName: string, paused: boolean): Promise<void> {
  await connection.session(async (sql) => {
    const name = sql.dialect.text(funcName);
    if (paused) await sql.run(sql.dialect.insertIgnoring(t.paused, ['func_name', 'paused_at'], ['func_name'], 1), [name, Date.now()]);
    else await sql.run(`DELETE FROM ${sql.dialect.id(t.paused)} WHERE func_name = ?`, [name]);
  });
}
