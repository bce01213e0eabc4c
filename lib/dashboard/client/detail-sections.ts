// The sections of the detail panel that only show a record: fields, progress, logs
// with retry separators, the function's analytics, recent runs of the same function.

import type { TaskRecord } from '../../task/task-record';
import { Child, h } from './dom';
import {
  firstLine,
  fmtDuration,
  fmtNumber,
  fmtRate,
  fullFormat,
  parseTime,
  rateClass,
  relative,
  shortId,
  statusBadge,
  timeEl,
  timeFormat,
} from './format';
import { functionInsight, functions } from './functions';
import { instanceLabel } from './instances';
import { page } from './page-actions';

export function section(title: string, ...content: Child[]): HTMLElement {
  return h('section', { class: 'detail-section' }, h('h3', null, title), ...content);
}

export function renderProgress(record: TaskRecord): HTMLElement {
  const pct = Math.max(0, Math.min(100, Math.round(Number(record.progress) * 100)));
  const bar = h('div', { class: 'progress-bar' });
  bar.style.width = `${pct}%`;
  return section(
    'Progress',
    h(
      'div',
      {
        class: 'progress',
        role: 'progressbar',
        'aria-valuemin': '0',
        'aria-valuemax': '100',
        'aria-valuenow': String(pct),
        'aria-label': 'Progress',
      },
      bar,
    ),
    h('div', { class: 'progress-text' }, h('span', null, `${pct}%`), h('span', null, record.status === 'running' ? 'running' : record.status)),
  );
}

/** The due time of a task added with a delay, and how far it is from now. */
function dueDetail(record: TaskRecord): HTMLElement {
  return h('span', null, timeEl(record.run_at, fullFormat), h('span', { class: 'muted' }, ` (${relative(parseTime(record.run_at))})`));
}

/** The record's fields; `onAllRuns` lists every task of its function. */
export function renderFields(record: TaskRecord, onAllRuns: () => void): HTMLElement {
  const dl = h('dl', { class: 'fields' });
  const row = (label: string, value: Child) => dl.append(h('dt', null, label), h('dd', null, value));
  row(
    'Function',
    h(
      'span',
      null,
      h('span', { class: 'mono' }, record.func_name),
      ' · ',
      h('button', { type: 'button', class: 'link', onclick: onAllRuns }, 'all runs'),
    ),
  );
  row('Status', record.status);
  row('Created', timeEl(record.created_at, fullFormat));
  // Shown whenever it was added with a delay: while it waits, and after, beside when it started.
  if (record.run_at) row(record.status === 'pending' ? 'Due' : 'Was due', dueDetail(record));
  row('Started', timeEl(record.start_time, fullFormat));
  row('Ended', timeEl(record.end_time, fullFormat));
  row(
    'Duration',
    record.status === 'running' && record.start_time
      ? `${fmtDuration((Date.now() - parseTime(record.start_time)) / 1000)} so far`
      : fmtDuration(record.duration),
  );
  row('Retries used', String(record.retries_used));
  row('Priority', record.priority === null || record.priority === undefined ? '–' : String(record.priority));
  row('Source', record.source);
  row('Executor', record.executor || '–');
  const instance = record.instance;
  row(
    'Instance',
    instance
      ? h(
          'span',
          null,
          h('span', { class: 'mono', title: instance }, instanceLabel(instance)),
          ' · ',
          h('button', { type: 'button', class: 'link', onclick: () => page.setFilters({ instance, status: '' }) }, 'its tasks'),
        )
      : '–',
  );
  row('Progress', record.progress === null || record.progress === undefined ? '–' : `${Math.round(record.progress * 100)}%`);
  return dl;
}

const LOG_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d) ([\s\S]*)$/;

export function renderLogs(logs: readonly string[]): HTMLElement {
  if (!logs.length) return h('p', { class: 'muted' }, 'No log lines.');
  const list = h('ol', { class: 'logs' });
  for (const line of logs) {
    const text = String(line);
    if (text.startsWith('--- ')) {
      list.append(h('li', { class: 'sep' }, text.replace(/^-+\s*|\s*-+$/g, '')));
      continue;
    }
    const m = LOG_LINE.exec(text);
    if (m) {
      const at = new Date(`${m[1]}Z`);
      list.append(
        h(
          'li',
          null,
          h('time', { class: 'log-ts', datetime: at.toISOString(), title: `${fullFormat.format(at)} (${m[1]} UTC)` }, timeFormat.format(at)),
          h('span', { class: 'log-msg' }, m[2]),
        ),
      );
    } else {
      list.append(h('li', null, h('span', { class: 'log-msg' }, text)));
    }
  }
  return list;
}

function stat(label: string, value: string, cls?: string): HTMLElement {
  return h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, label), h('span', { class: `stat-value ${cls || ''}` }, value));
}

export function renderAnalytics(record: TaskRecord): HTMLElement {
  const f = functionInsight(record.func_name);
  if (!f)
    return section(`Function · ${record.func_name}`, h('p', { class: 'muted' }, functions.list ? 'No statistics for this function.' : 'Loading…'));
  const last = f.last_failure;
  return section(
    `Function · ${record.func_name}`,
    h(
      'div',
      { class: 'stats' },
      stat('Runs', fmtNumber(f.total)),
      stat('Success rate', fmtRate(f.success_rate), rateClass(f.success_rate)),
      stat('Failed', fmtNumber(f.failed + f.interrupted)),
      stat('Mean', fmtDuration(f.avg_duration_seconds)),
      stat('p50', fmtDuration(f.p50_duration_seconds)),
      stat('p95', fmtDuration(f.p95_duration_seconds)),
    ),
    last
      ? h(
          'p',
          { class: 'small muted' },
          'Last failure ',
          relative(parseTime(last.at)),
          ': ',
          h(
            'button',
            { type: 'button', class: 'link', onclick: () => page.openDetail(last.task_id) },
            last.error ? firstLine(last.error) : shortId(last.task_id),
          ),
        )
      : null,
  );
}

/** The newest runs of the record's function (`runs` null while loading). */
export function renderRecent(record: TaskRecord, runs: readonly TaskRecord[] | null): HTMLElement {
  if (!runs) return section('Recent runs', h('p', { class: 'muted' }, 'Loading…'));
  if (!runs.length) return section('Recent runs', h('p', { class: 'muted' }, 'None.'));
  return section(
    'Recent runs',
    h(
      'ul',
      { class: 'runs' },
      runs.map((r) =>
        h(
          'li',
          { class: r.task_id === record.task_id ? 'current' : '' },
          h(
            'button',
            { type: 'button', onclick: () => page.openDetail(r.task_id), 'aria-current': r.task_id === record.task_id ? 'true' : null },
            h('code', null, shortId(r.task_id)),
            statusBadge(r.status),
            h('span', { class: 'run-dur' }, fmtDuration(r.duration)),
            h('span', { class: 'run-time' }, timeEl(r.created_at)),
          ),
        ),
      ),
    ),
  );
}
