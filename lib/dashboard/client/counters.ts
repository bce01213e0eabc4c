// The overview's counters, from GET /metrics and the stream's `metrics` events.

import type { TaskMetrics } from '../../task/task-metrics';
import { api, errorMessage, errorStatus } from './api';
import { $, $$ } from './dom';
import { fmtDuration, fmtNumber, fmtRate, rateClass } from './format';
import { live, setLive } from './live';
import { hasFilters, view } from './view';

export function applyMetrics(m: TaskMetrics): void {
  const values = m as unknown as Record<string, number | null>;
  for (const el of $$('#counters .counter-value')) {
    const key = el.dataset.key!;
    if (key === 'success_rate') {
      el.textContent = fmtRate(m.success_rate);
      el.className = `counter-value ${rateClass(m.success_rate)}`;
    } else if (key.endsWith('_seconds')) {
      el.textContent = fmtDuration(values[key]);
    } else {
      el.textContent = fmtNumber(values[key]);
      if (key === 'failed') el.classList.toggle('nonzero', m.failed > 0);
    }
  }
  $('#count-dead').textContent = m.failed + m.interrupted > 0 ? fmtNumber(m.failed + m.interrupted) : '';
}

export async function refreshMetrics(): Promise<void> {
  try {
    const { data } = await api<TaskMetrics>('/metrics');
    applyMetrics(data);
  } catch (error) {
    if (errorStatus(error) !== 401) setLive(live.state, `Metrics failed: ${errorMessage(error)}`);
  }
}

/** The status counter matching the status filter is pressed; "Total" when no filter is set. */
export function renderCounterFilter(): void {
  for (const button of $$('#counters button.counter')) {
    button.setAttribute('aria-pressed', String(button.dataset.filter === view.status && (view.status !== '' || !hasFilters())));
  }
}
