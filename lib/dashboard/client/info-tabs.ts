// The read-only tabs: schedules (GET /schedules), registered functions
// (GET /registered) and the audit log (GET /audit, when auth is on).

import type { AuditEntry } from '../../task/audit-entry';
import type { ScheduleInfo } from '../../task/schedule-info';
import { api, errorMessage } from './api';
import { $, clear, h } from './dom';
import { fmtDuration, fmtNumber, fmtRate, fullFormat, plural, shortId, statusBadge, timeEl } from './format';
import { functionInsight } from './functions';
import { page } from './page-actions';
import { pauseControl } from './pause-control';
import type { RegisteredOptions, RegisteredTask } from './wire';

export async function loadSchedules(): Promise<void> {
  const body = $('#sched-body');
  try {
    const { data } = await api<ScheduleInfo[]>('/schedules');
    $('#count-schedules').textContent = data.length ? fmtNumber(data.length) : '';
    clear(body);
    if (!data.length) {
      body.append(
        h(
          'tr',
          { class: 'placeholder' },
          h('td', { colspan: 6 }, 'No scheduled tasks yet. Methods decorated with @ScheduledTask appear here with their next and last runs.'),
        ),
      );
      return;
    }
    for (const s of data) {
      const lastTask = s.last_task_id;
      body.append(
        h(
          'tr',
          null,
          h('td', { class: 'mono' }, s.func_name),
          h('td', null, h('code', null, s.trigger)),
          h('td', null, timeEl(s.next_run, fullFormat)),
          h('td', null, timeEl(s.last_run)),
          h('td', null, s.last_status ? statusBadge(s.last_status) : h('span', { class: 'none' }, '–')),
          h(
            'td',
            null,
            lastTask
              ? h('button', { type: 'button', class: 'link mono', onclick: () => page.openDetail(lastTask) }, shortId(lastTask))
              : h('span', { class: 'none' }, '–'),
          ),
        ),
      );
    }
  } catch (error) {
    clear(body).append(h('tr', { class: 'placeholder' }, h('td', { colspan: 6 }, `Could not load schedules: ${errorMessage(error)}`)));
  }
}

function optionPills(o: RegisteredOptions): HTMLElement[] {
  const pills: HTMLElement[] = [];
  const retries = o.retries || 0;
  const delay = o.delay || 0;
  pills.push(h('span', { class: `pill ${retries > 0 ? 'pill-accent' : ''}` }, o.retries === 1 ? '1 retry' : `${fmtNumber(retries)} retries`));
  if (delay > 0) pills.push(h('span', { class: 'pill' }, `${o.delay} s delay`));
  if (delay > 0 && o.backoff !== 1) pills.push(h('span', { class: 'pill' }, `×${o.backoff} back-off`));
  if (o.timeout) pills.push(h('span', { class: 'pill' }, `${o.timeout} s timeout`));
  if (o.priority !== null && o.priority !== undefined) pills.push(h('span', { class: 'pill' }, `priority ${o.priority}`));
  if (o.persist) pills.push(h('span', { class: 'pill' }, 'persist'));
  if (o.requeueOnInterrupt) pills.push(h('span', { class: 'pill' }, 'requeue on interrupt'));
  if (o.eager) pills.push(h('span', { class: 'pill' }, 'eager'));
  if (o.concurrency) pills.push(h('span', { class: 'pill' }, `${fmtNumber(o.concurrency)} at once`));
  if (o.rateLimit) pills.push(h('span', { class: 'pill' }, `${fmtNumber(o.rateLimit.max)} per ${o.rateLimit.perSeconds} s`));
  return pills;
}

export async function loadRegistered(): Promise<void> {
  const box = $('#reg-body');
  try {
    const { data } = await api<RegisteredTask[]>('/registered');
    $('#count-registered').textContent = data.length ? fmtNumber(data.length) : '';
    clear(box);
    if (!data.length) {
      box.append(h('p', { class: 'empty' }, 'No @BackgroundTask is registered in this application.'));
      return;
    }
    for (const task of data) {
      const f = functionInsight(task.name);
      box.append(
        h(
          'article',
          { class: 'reg-card', 'data-name': task.name },
          h(
            'div',
            { class: 'reg-head' },
            h('h3', null, task.name),
            pauseControl(task, () => void loadRegistered()),
          ),
          h('div', { class: 'pills' }, task.paused ? h('span', { class: 'pill pill-paused' }, 'paused') : null, optionPills(task.options || {})),
          f && f.total
            ? h(
                'p',
                { class: 'small muted' },
                `${plural(f.total, 'run')}, ${fmtRate(f.success_rate)} success, p95 ${fmtDuration(f.p95_duration_seconds)} · `,
                h(
                  'button',
                  { type: 'button', class: 'link', onclick: () => page.setFilters({ func: task.name, status: '', since: '', search: '' }) },
                  'show tasks',
                ),
              )
            : h('p', { class: 'small muted' }, 'No runs yet.'),
        ),
      );
    }
  } catch (error) {
    clear(box).append(h('p', { class: 'empty' }, `Could not load registered tasks: ${errorMessage(error)}`));
  }
}

export async function loadAudit(): Promise<void> {
  const body = $('#audit-body');
  try {
    const { data } = await api<AuditEntry[]>('/audit', { query: { limit: '200' } });
    clear(body);
    if (!data.length) {
      body.append(h('tr', { class: 'placeholder' }, h('td', { colspan: 5 }, 'No admin actions yet.')));
      return;
    }
    for (const entry of data) {
      const details = Object.entries(entry.detail || {})
        .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(', ');
      const taskId = entry.task_id;
      body.append(
        h(
          'tr',
          null,
          h('td', null, timeEl(entry.timestamp)),
          h(
            'td',
            null,
            h(
              'span',
              { class: `pill ${entry.action === 'cancel' || entry.action === 'delete_history' ? '' : 'pill-accent'}` },
              entry.action.replace('_', ' '),
            ),
          ),
          h(
            'td',
            null,
            taskId && taskId !== 'bulk'
              ? h('button', { type: 'button', class: 'link mono', onclick: () => page.openDetail(taskId) }, shortId(taskId))
              : h('span', { class: 'none' }, taskId || '–'),
          ),
          h('td', null, entry.actor),
          h('td', { class: 'small', title: details }, details || '–'),
        ),
      );
    }
  } catch (error) {
    clear(body).append(h('tr', { class: 'placeholder' }, h('td', { colspan: 5 }, `Could not load the audit log: ${errorMessage(error)}`)));
  }
}
