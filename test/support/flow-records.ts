/** What flow-control tests measure on task records: overlap of runs and starts per window. */

interface Timed {
  start_time: string | null;
  end_time: string | null;
}

/** The most runs that overlapped at any instant (a run ending at the instant another starts does not overlap it). */
export function maxOverlap(records: readonly Timed[]): number {
  const events: [number, number][] = [];
  for (const r of records) {
    if (r.start_time === null) continue;
    events.push([Date.parse(r.start_time), 1]);
    events.push([r.end_time === null ? Infinity : Date.parse(r.end_time), -1]);
  }
  return maxOverlapOf(events);
}

/** The same over `[time, +1 | -1]` events (ends sort before starts at one instant). */
export function maxOverlapOf(events: [number, number][]): number {
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, delta] of events) {
    now += delta;
    max = Math.max(max, now);
  }
  return max;
}

/** The most start times within any half-open window [t, t + windowMs). */
export function maxStartsInWindow(records: readonly Timed[], windowMs: number): number {
  const starts = records
    .map((r) => r.start_time)
    .filter((s): s is string => s !== null)
    .map((s) => Date.parse(s))
    .sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; i < starts.length; i++) {
    while (starts[i] - starts[j] >= windowMs) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}
