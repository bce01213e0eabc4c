/** The latest instant a Date can hold (epoch ms). */
const MAX_DATE_MS = 8.64e15;

/** What addTask and enqueue take to start a task later. */
export interface DueOptions {
  delay?: number;
  runAt?: Date;
}

/**
 * When a new task added at `now` (epoch ms) is due: `now + delay` seconds, or `runAt`
 * (a time already past means now), or null without either. Rejects both at once, a
 * delay that is not a finite number of seconds >= 0, and a runAt that is not a valid Date.
 */
export function dueTimeOf(options: DueOptions, now: number): number | null {
  const { delay, runAt } = options;
  if (delay !== undefined && runAt !== undefined) throw new TypeError('addTask: give either delay (seconds) or runAt (a Date), not both');
  if (delay !== undefined) {
    if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0 || now + delay * 1000 > MAX_DATE_MS) {
      throw new TypeError('addTask: delay must be a finite number of seconds >= 0');
    }
    return now + Math.round(delay * 1000);
  }
  if (runAt !== undefined) {
    const at = Object.prototype.toString.call(runAt) === '[object Date]' ? runAt.getTime() : NaN;
    if (!Number.isFinite(at)) throw new TypeError('addTask: runAt must be a valid Date');
    return Math.max(now, at);
  }
  return null;
}
