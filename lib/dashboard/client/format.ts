// Numbers, durations, rates and times as the page shows them, and the small badges
// built from them.

import { TASK_STATUSES } from '../../task/task-status';
import { h } from './dom';

const numberFormat = new Intl.NumberFormat();
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
export const fullFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  timeZoneName: 'short',
});
export const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
export const hourMinuteFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export function fmtNumber(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(Number(n)) ? '–' : numberFormat.format(Number(n));
}

/** Seconds → "12 ms", "3.40 s", "12.5 s", "4m 05s", "2h 13m". */
export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return '–';
  const ms = Math.max(0, Number(seconds) * 1000);
  if (ms < 1) return '<1 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3600000) {
    const m = Math.floor(ms / 60000);
    const s = Math.floor((ms % 60000) / 1000);
    return `${m}m ${String(s).padStart(2, '0')}s`;
  }
  const hours = Math.floor(ms / 3600000);
  const minutes = Math.floor((ms % 3600000) / 60000);
  return `${hours}h ${String(minutes).padStart(2, '0')}m`;
}

export function fmtRate(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '–' : `${(Number(rate) * 100).toFixed(1)}%`;
}

export function rateClass(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '';
  return rate >= 0.95 ? 'rate-good' : rate >= 0.8 ? 'rate-warn' : 'rate-bad';
}

/** Epoch ms of an ISO-8601 string carrying an offset; NaN when absent. */
export function parseTime(iso: string | null | undefined): number {
  return typeof iso === 'string' ? Date.parse(iso) : NaN;
}

/** A <time> in the viewer's local time zone, with the UTC instant as its tooltip. */
export function timeEl(iso: string | null | undefined, format?: Intl.DateTimeFormat): HTMLElement {
  const ms = parseTime(iso);
  if (!Number.isFinite(ms)) return h('span', { class: 'none', text: '–' });
  const date = new Date(ms);
  return h(
    'time',
    { datetime: date.toISOString(), title: `${fullFormat.format(date)} (${date.toISOString()})` },
    (format || dateTimeFormat).format(date),
  );
}

/**
 * "due 09:01:30" (the date too when it is not today) for a pending task added with a
 * delay, as a <time> carrying the full instant; null for any other task.
 */
export function dueLabel(status: string, runAt: string | null | undefined): HTMLElement | null {
  const ms = parseTime(runAt);
  if (status !== 'pending' || !Number.isFinite(ms)) return null;
  const sameDay = new Date(ms).toDateString() === new Date().toDateString();
  return h('span', { class: 'due', title: 'Waits until this time to start' }, 'due ', timeEl(runAt, sameDay ? timeFormat : undefined));
}

export function relative(ms: number): string {
  const diff = Math.round((Date.now() - ms) / 1000);
  if (!Number.isFinite(diff)) return '';
  const abs = Math.abs(diff);
  const suffix = diff >= 0 ? 'ago' : 'from now';
  if (abs < 60) return `${abs}s ${suffix}`;
  if (abs < 3600) return `${Math.floor(abs / 60)}m ${suffix}`;
  if (abs < 86400) return `${Math.floor(abs / 3600)}h ${suffix}`;
  return `${Math.floor(abs / 86400)}d ${suffix}`;
}

export function shortId(id: string): string {
  return String(id).slice(0, 8);
}

export function plural(n: number, one: string, many?: string): string {
  return `${fmtNumber(n)} ${n === 1 ? one : many || `${one}s`}`;
}

/** The first line of an error, cut at 160 characters. */
export function firstLine(text: string): string {
  const line = String(text).split('\n', 1)[0];
  return line.length > 160 ? `${line.slice(0, 160)}…` : line;
}

export function statusBadge(status: string, extra?: string): HTMLElement {
  const label = (TASK_STATUSES as readonly string[]).includes(status) ? status : 'unknown';
  return h('span', { class: `badge st-${label}` }, extra ? `${label} ${extra}` : label);
}

export function priorityBadge(priority: number | null | undefined): HTMLElement {
  if (priority === null || priority === undefined) return h('span', { class: 'none', text: '–' });
  const p = Number(priority);
  const level = p >= 8 ? 'high' : p >= 5 ? 'mid' : 'low';
  return h('span', { class: `prio prio-${level}`, title: `Priority ${p}` }, String(p));
}
