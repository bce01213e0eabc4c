// The detail panel: every field, local times, tags, arguments (when allowed), logs,
// error and stack trace, progress, function analytics, recent runs of the same
// function, cancel and retry.

import type { TaskRecord } from '../../task/task-record';
import { api, errorMessage, errorStatus, taskPath } from './api';
import { CONFIG, doc } from './config';
import { mergeAttempts, renderAttempts, renderResult } from './detail-attempts';
import { renderAnalytics, renderFields, renderLogs, renderProgress, renderRecent, section } from './detail-sections';
import { $, clear, h } from './dom';
import { parseTime, plural, shortId, statusBadge } from './format';
import { functions, refreshFunctions } from './functions';
import { followView } from './live';
import { page } from './page-actions';
import { permissions } from './permissions';
import { tableOnRecord } from './table';
import { table } from './table-state';
import { CANCELLABLE, RETRYABLE, isNewerState, progressText } from './task-state';
import { copyButton, toast } from './toast';
import { perFrame } from './util';
import { view, writeView } from './view';
import type { TaskActionResult } from './wire';

export const detail = {
  id: null as string | null,
  record: null as TaskRecord | null,
  recent: null as TaskRecord[] | null,
  opener: null as HTMLElement | null,
  seq: 0,
  busy: null as 'cancel' | 'retry' | null,
  /** Id of the new task created by the last retry from this panel. */
  retriedAs: null as string | null,
  missing: false,
};

const renderDetailSoon = perFrame(() => renderDetail());

export async function openDetail(id: string, opener?: HTMLElement): Promise<void> {
  if (!id) return;
  const focused = doc.activeElement as HTMLElement | null;
  if (opener) detail.opener = opener;
  else if (focused && focused !== doc.body && !$('#detail').contains(focused)) detail.opener = focused;
  if (detail.id !== id) {
    detail.record = null;
    detail.recent = null;
    detail.busy = null;
    detail.retriedAs = null;
    detail.missing = false;
  }
  detail.id = id;
  if (view.task !== id) {
    view.task = id;
    writeView(false);
  }
  followView();
  markCurrentRow();
  const panel = $('#detail');
  panel.hidden = false;
  $('#detail-title').textContent = `Task ${shortId(id)}`;
  if (!detail.record) clear($('#detail-body')).append(h('p', { class: 'muted' }, 'Loading…'));
  $('#detail-title').focus();
  await loadDetail();
}

export async function loadDetail(): Promise<void> {
  const id = detail.id;
  if (!id) return;
  const seq = ++detail.seq;
  try {
    const { data } = await api<TaskRecord>(taskPath(id));
    if (seq !== detail.seq || detail.id !== id) return;
    detail.record = data;
    detail.missing = false;
    renderDetail();
    void loadRecent();
    if (!functions.list) void refreshFunctions();
  } catch (error) {
    if (seq !== detail.seq || detail.id !== id) return;
    const missing = errorStatus(error) === 404;
    detail.missing = missing;
    clear($('#detail-body')).append(
      h(
        'p',
        { class: 'muted' },
        missing
          ? 'This task does not exist (any more): it may have been removed by retention or by clearing the history.'
          : `Could not load the task: ${errorMessage(error)}`,
      ),
    );
  }
}

async function loadRecent(): Promise<void> {
  const record = detail.record;
  if (!record) return;
  try {
    const { data } = await api<TaskRecord[]>('', { query: { func_name: record.func_name, limit: '6' } });
    if (!detail.record || detail.record.func_name !== record.func_name) return;
    detail.recent = data;
    renderDetailSoon();
  } catch {
    detail.recent = [];
  }
}

export function closeDetail(fromHistory?: boolean): void {
  if (!detail.id && $('#detail').hidden) return;
  $('#detail').hidden = true;
  const id = detail.id;
  detail.id = null;
  detail.record = null;
  if (!fromHistory && view.task) {
    view.task = '';
    writeView(false);
  }
  view.task = '';
  followView();
  markCurrentRow();
  const back = detail.opener && detail.opener.isConnected ? detail.opener : id && table.rows.get(id);
  if (back) back.focus({ preventScroll: false });
}

function markCurrentRow(): void {
  for (const [id, tr] of table.rows) tr.classList.toggle('current', id === detail.id);
}

export function detailOnRecord(record: TaskRecord): void {
  if (!detail.id) return;
  if (record.task_id === detail.id) {
    if (!isNewerState(detail.record, record)) return;
    const merged = mergeAttempts(detail.record, record);
    detail.record = merged.record;
    detail.missing = false;
    renderDetailSoon();
    if (merged.stale) void loadDetail();
    return;
  }
  if (detail.recent && detail.record && record.func_name === detail.record.func_name) {
    const i = detail.recent.findIndex((r) => r.task_id === record.task_id);
    if (i >= 0) detail.recent[i] = record;
    else if (!detail.recent.length || parseTime(record.created_at) >= parseTime(detail.recent[0].created_at))
      detail.recent = [record, ...detail.recent].slice(0, 6);
    else return;
    renderDetailSoon();
  }
}

export function detailFunctionsChanged(): void {
  if (detail.record) renderDetailSoon();
}

function renderDetail(): void {
  const record = detail.record;
  const body = $('#detail-body');
  if (!record || !detail.id) return;
  const scroll = body.scrollTop;
  const parts: (HTMLElement | null)[] = [];
  parts.push(h('div', { class: 'detail-id' }, h('code', null, record.task_id), copyButton(record.task_id, 'task id')));
  parts.push(
    h(
      'div',
      { class: 'detail-status' },
      statusBadge(record.status, progressText(record)),
      record.source === 'scheduled' ? h('span', { class: 'pill pill-sched' }, 'scheduled') : h('span', { class: 'pill' }, record.source),
      record.priority !== null && record.priority !== undefined ? h('span', { class: 'pill' }, 'priority ', String(record.priority)) : null,
      record.retries_used ? h('span', { class: 'pill' }, plural(record.retries_used, 'retry', 'retries')) : null,
    ),
  );
  parts.push(renderActions(record));
  if (record.progress !== null && record.progress !== undefined) parts.push(renderProgress(record));
  if (record.error || record.stacktrace) {
    parts.push(
      section(
        'Error',
        record.error ? h('div', { class: 'error-message' }, record.error) : null,
        record.stacktrace ? h('pre', { class: 'code-block stack' }, record.stacktrace) : null,
      ),
    );
  }
  parts.push(
    section(
      'Details',
      renderFields(record, () => {
        closeDetail();
        page.setFilters({ func: record.func_name, status: '', since: '', search: '' });
      }),
    ),
  );
  const tags = Object.entries(record.tags || {});
  if (tags.length) {
    parts.push(
      section(
        'Tags',
        h(
          'div',
          { class: 'tags' },
          tags.map(([k, v]) => h('span', { class: 'tag' }, h('span', { class: 'tag-k' }, k), h('span', { class: 'tag-v' }, String(v)))),
        ),
      ),
    );
  }
  if (CONFIG.args && Array.isArray(record.args)) {
    let text: string;
    try {
      text = JSON.stringify(record.args, null, 2);
    } catch {
      text = String(record.args);
    }
    parts.push(section(`Arguments (${record.args.length})`, h('pre', { class: 'code-block args' }, text)));
    parts.push(renderResult(record));
  }
  parts.push(renderAttempts(record));
  parts.push(section(`Logs (${(record.logs || []).length})`, renderLogs(record.logs || [])));
  parts.push(renderAnalytics(record));
  parts.push(renderRecent(record, detail.recent));
  body.replaceChildren(...parts.filter((part): part is HTMLElement => !!part));
  body.scrollTop = scroll;
  $('#detail-title').textContent = `Task ${shortId(record.task_id)} · ${record.func_name}`;
}

function renderActions(record: TaskRecord): HTMLElement | null {
  const box = h('div', { class: 'actions' });
  if (permissions.operate && CANCELLABLE.has(record.status)) {
    box.append(
      h(
        'button',
        {
          type: 'button',
          class: 'btn btn-danger-ghost',
          id: 'detail-cancel',
          disabled: detail.busy !== null,
          onclick: () => cancelFromPanel(record.task_id),
        },
        detail.busy === 'cancel' ? 'Cancelling…' : 'Cancel task',
      ),
    );
    if (record.status === 'running')
      box.append(h('span', { class: 'note' }, 'The running attempt is told to stop (its AbortSignal fires) and no further attempt starts.'));
  }
  if (permissions.operate && RETRYABLE.has(record.status)) {
    box.append(
      h(
        'button',
        {
          type: 'button',
          class: 'btn btn-primary',
          id: 'detail-retry',
          disabled: detail.busy !== null,
          onclick: () => retryFromPanel(record.task_id),
        },
        detail.busy === 'retry' ? 'Retrying…' : 'Retry task',
      ),
    );
    if (record.status === 'interrupted')
      box.append(h('span', { class: 'note warn' }, 'Interrupted while running: part of its work may already have happened.'));
  }
  const retriedAs = detail.retriedAs;
  if (retriedAs) {
    box.append(
      h(
        'span',
        { class: 'note' },
        'Retried as ',
        h('button', { type: 'button', class: 'link mono', onclick: () => openDetail(retriedAs) }, shortId(retriedAs)),
      ),
    );
  }
  return box.children.length ? box : null;
}

async function cancelFromPanel(id: string): Promise<void> {
  detail.busy = 'cancel';
  renderDetail();
  try {
    const { data } = await api<TaskActionResult>(`${taskPath(id)}/cancel`, { method: 'POST' });
    toast(`Task ${shortId(id)} cancelled`);
    if (detail.id === id) detail.record = data.task;
    tableOnRecord(data.task);
  } catch (error) {
    toast(`Could not cancel: ${errorMessage(error)}`, 'error');
  } finally {
    detail.busy = null;
    if (detail.id === id) renderDetail();
  }
}

async function retryFromPanel(id: string): Promise<void> {
  detail.busy = 'retry';
  renderDetail();
  try {
    const { data } = await api<TaskActionResult>(`${taskPath(id)}/retry`, { method: 'POST' });
    if (detail.id === id) detail.retriedAs = data.task_id;
    toast(`Retry queued as ${shortId(data.task_id)}`, 'info', { label: 'Open', run: () => openDetail(data.task_id) });
    tableOnRecord(data.task);
  } catch (error) {
    toast(`Could not retry: ${errorMessage(error)}`, 'error');
  } finally {
    detail.busy = null;
    if (detail.id === id) renderDetail();
  }
}
