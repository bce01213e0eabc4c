// The detail panel's attempt history (why earlier attempts failed) and the task's
// return value (shown under the same rule as its arguments).

import type { TaskRecord } from '../../task/task-record';
import { section } from './detail-sections';
import { h } from './dom';
import { fmtDuration, fullFormat, parseTime, timeEl } from './format';

export function renderAttempts(record: TaskRecord): HTMLElement | null {
  const attempts = record.attempts;
  if (!attempts || !attempts.length) return null;
  return section(
    `Attempts (${attempts.length})`,
    h(
      'ol',
      { class: 'attempts' },
      attempts.map((a) =>
        h(
          'li',
          { class: a.error ? 'attempt attempt-failed' : 'attempt' },
          h('span', { class: 'attempt-n' }, `#${a.attempt}`),
          ' ',
          timeEl(a.start_time, fullFormat),
          ' · ',
          a.end_time ? fmtDuration((parseTime(a.end_time) - parseTime(a.start_time)) / 1000) : 'no end recorded',
          a.error ? h('div', { class: 'attempt-error' }, a.error) : a.end_time ? h('span', { class: 'muted' }, ' · succeeded') : null,
        ),
      ),
    ),
  );
}

export function renderResult(record: TaskRecord): HTMLElement | null {
  if (record.status !== 'success' || !('result' in record)) return null;
  let text: string;
  try {
    text = JSON.stringify(record.result, null, 2) ?? 'null';
  } catch {
    text = String(record.result);
  }
  return section('Result', h('pre', { class: 'code-block result' }, text));
}

/**
 * A change from the stream carries no attempt history (only the detail route has it):
 * keep the one held, and say whether it is stale (another attempt began or ended).
 */
export function mergeAttempts(held: TaskRecord | null, incoming: TaskRecord): { record: TaskRecord; stale: boolean } {
  if (incoming.attempts || !held?.attempts) return { record: incoming, stale: false };
  const stale = held.status !== incoming.status || held.retries_used !== incoming.retries_used;
  return { record: { ...incoming, attempts: held.attempts }, stale };
}
