/**
 * When a search indexer folds its queue (search-indexer.ts for SQLite, pg-search-indexer.ts
 * for PostgreSQL): searches read every queued row, so under writes that never pause the
 * queue must not grow without end.
 */

/** Under writes that never pause, a fold still runs this often (each bounded by its indexer's budget). */
export const FORCED_EVERY_MS = 1000;
/**
 * Past this many rows queued by this process, a fold runs at every tick even under writes:
 * a load that never pauses for IDLE_MS (write-tracker.ts) and writes faster than the forced
 * folds take rows would otherwise grow the queue, which every search reads whole, without
 * end. Above a 100,000-task burst's queue, so a burst keeps its speed.
 */
export const QUEUE_BOUND = 200_000;

/** Why a fold may run at this tick (the queue not empty, no fold under way), or null. */
export type FoldReason = 'idle' | 'forced' | null;

/** Whether a fold may run: idle, or `sinceChanceMs` of writes without a chance to fold, or `backlog` past `bound`. */
export function foldDue(idle: boolean, backlog: number, sinceChanceMs: number, bound = QUEUE_BOUND): FoldReason {
  if (idle) return 'idle';
  return backlog >= bound || sinceChanceMs >= FORCED_EVERY_MS ? 'forced' : null;
}
