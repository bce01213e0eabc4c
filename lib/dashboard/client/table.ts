// The task table: server-side paging, sorting and filtering (GET {path}), rows
// updated in place from the stream, new matching tasks inserted on top of page 1.

import { DEFAULT_EXPORT_ROWS } from '../../task/request-limits';
import type { TaskRecord } from '../../task/task-record';
import { api, errorMessage } from './api';
import { CONFIG, doc } from './config';
import { $, $$, clear, h } from './dom';
import { dueLabel, fmtDuration, fmtNumber, firstLine, parseTime, plural, priorityBadge, shortId, statusBadge, timeEl } from './format';
import { live } from './live';
import { page } from './page-actions';
import { updateSelectionUi } from './selection';
import { table } from './table-state';
import { isNewerState, progressText } from './task-state';
import type { ToastAction } from './toast';
import { copyButton } from './toast';
import { filterParams, hasFilters, matchesView, view, writeView } from './view';

function listParams(): Record<string, string> {
  return Object.assign(filterParams(), { sort: view.sort, limit: String(view.size), offset: String((view.page - 1) * view.size) });
}

export async function loadTasks(quiet?: boolean): Promise<void> {
  const seq = ++table.seq;
  const tableEl = $('#tasks');
  if (!quiet) tableEl.setAttribute('aria-busy', 'true');
  performance.mark('tf-table-start');
  try {
    const { data, total } = await api<TaskRecord[]>('', { query: listParams() });
    if (seq !== table.seq) return;
    table.total = total === null ? data.length : total;
    if (!data.length && view.page > 1 && table.total > 0) {
      view.page = Math.max(1, Math.ceil(table.total / view.size));
      writeView(true);
      return loadTasks(quiet);
    }
    renderRows(data);
    table.newCount = 0;
    renderNewNotice();
    renderPager();
    performance.mark('tf-table-end');
    performance.measure('tf-table-load', 'tf-table-start', 'tf-table-end');
    if (!table.loadedOnce) {
      table.loadedOnce = true;
      performance.mark('tf-first-table');
      if (live.catchUp) {
        live.catchUp = false;
        setTimeout(() => loadTasks(true), 0);
      }
    }
  } catch (error) {
    if (seq !== table.seq) return;
    if (!table.loadedOnce || !quiet) {
      renderTableMessage(`Could not load tasks: ${errorMessage(error)}`, { label: 'Try again', run: () => loadTasks() });
      $('#pager-text').textContent = '';
    }
  } finally {
    if (seq === table.seq) tableEl.removeAttribute('aria-busy');
  }
}

function renderTableMessage(text: string, action?: ToastAction): void {
  const cell = h('td', { colspan: 9 }, h('div', null, text));
  if (action) cell.append(h('div', null, h('button', { type: 'button', class: 'link', onclick: action.run }, action.label)));
  clear($('#tasks-body')).append(h('tr', { class: 'placeholder' }, cell));
  table.records = [];
  table.rows.clear();
  updateSelectionUi();
}

function renderRows(records: TaskRecord[]): void {
  const body = $('#tasks-body');
  const active = doc.activeElement;
  const focusedId = active && active.closest && active.closest('#tasks-body tr[data-id]') ? active.closest<HTMLElement>('tr')!.dataset.id : null;
  const previous = new Map(table.records.map((r) => [r.task_id, r]));
  const oldRows = table.rows;
  table.rows = new Map();
  if (!records.length) {
    table.records = [];
    if (hasFilters())
      renderTableMessage('No tasks match these filters.', {
        label: 'Clear filters',
        run: () => page.setFilters({ status: '', func: '', since: '', search: '' }),
      });
    else renderTableMessage('No tasks yet. Tasks appear here as soon as they are added.');
    return;
  }
  // Rows already on screen are kept (and updated only when changed): a refresh
  // neither flickers nor loses what the viewer is pointing at.
  const fragment = doc.createDocumentFragment();
  table.records = records.map((record) => {
    const before = previous.get(record.task_id);
    const current = before && !isNewerState(before, record) ? before : record;
    const tr = oldRows.get(record.task_id);
    if (tr) {
      if (JSON.stringify(before) !== JSON.stringify(current)) fillRow(tr, current);
      table.rows.set(record.task_id, tr);
      fragment.append(tr);
    } else {
      fragment.append(makeRow(current));
    }
    return current;
  });
  body.replaceChildren(fragment);
  if (focusedId && table.rows.has(focusedId)) table.rows.get(focusedId)!.focus({ preventScroll: true });
  updateSelectionUi();
}

function makeRow(record: TaskRecord): HTMLTableRowElement {
  const tr = h('tr', { tabindex: '0', dataset: { id: record.task_id } });
  fillRow(tr, record);
  table.rows.set(record.task_id, tr);
  return tr;
}

function durationCell(record: TaskRecord): Node | string {
  if (record.status === 'running' && record.start_time) {
    return h(
      'span',
      { class: 'elapsed', dataset: { start: String(parseTime(record.start_time)) }, title: 'Running for' },
      fmtDuration((Date.now() - parseTime(record.start_time)) / 1000),
    );
  }
  return record.duration === null || record.duration === undefined ? h('span', { class: 'none' }, '–') : fmtDuration(record.duration);
}

function fillRow(tr: HTMLTableRowElement, record: TaskRecord): void {
  const id = record.task_id;
  const selected = table.allMatching || table.selected.has(id);
  tr.classList.toggle('selected', selected);
  tr.classList.toggle('current', id === view.task);
  // A row that no longer matches the filters (a running task that finished, under
  // status=running) stays where it is, dimmed, until the next load: nothing jumps.
  tr.classList.toggle('stale', !matchesView(record));
  tr.setAttribute('aria-label', `Task ${shortId(id)}, ${record.func_name}, ${record.status}. Press Enter for details.`);
  const box = h('input', { type: 'checkbox', class: 'row-select', 'aria-label': `Select task ${shortId(id)}` });
  box.checked = selected;
  tr.replaceChildren(
    h('td', { class: 'c-select' }, box),
    h('td', { class: 'c-id' }, h('span', { class: 'id-cell' }, h('code', { title: id }, shortId(id)), copyButton(id, 'task id'))),
    h(
      'td',
      { class: 'c-func' },
      h(
        'span',
        { class: 'func-cell' },
        h('span', { class: 'func-name mono', title: record.func_name }, record.func_name),
        record.source === 'scheduled' ? h('span', { class: 'pill pill-sched', title: 'Started by a schedule' }, 'scheduled') : null,
      ),
    ),
    h('td', { class: 'c-status' }, statusBadge(record.status, progressText(record)), dueLabel(record.status, record.run_at)),
    h('td', { class: 'c-prio' }, priorityBadge(record.priority)),
    h('td', { class: 'c-dur num' }, durationCell(record)),
    h('td', { class: 'c-retries num' }, record.retries_used ? fmtNumber(record.retries_used) : h('span', { class: 'none' }, '0')),
    h('td', { class: 'c-created time' }, timeEl(record.created_at)),
    h('td', { class: 'c-error' }, record.error ? h('span', { class: 'error-cell', title: record.error }, firstLine(record.error)) : ''),
  );
}

/** A change from the stream: update the row in place, or insert a new matching task on top. */
export function tableOnRecord(record: TaskRecord): void {
  const tr = table.rows.get(record.task_id);
  if (tr) {
    const index = table.records.findIndex((r) => r.task_id === record.task_id);
    const before = index >= 0 ? table.records[index] : null;
    if (!isNewerState(before, record)) return;
    if (index >= 0) table.records[index] = record;
    fillRow(tr, record);
    if (before && before.status !== record.status) {
      tr.classList.remove('flash');
      void tr.offsetWidth;
      tr.classList.add('flash');
    }
    return;
  }
  if (!table.loadedOnce || !matchesView(record)) return;
  const newest = table.records.length ? parseTime(table.records[0].created_at) : -Infinity;
  if (parseTime(record.created_at) < newest) return;
  if (table.records.some((r) => r.task_id === record.task_id)) return;
  if (view.page !== 1 || view.sort !== '-created_at') {
    table.newCount++;
    renderNewNotice();
    return;
  }
  const body = $('#tasks-body');
  if (!table.records.length) body.replaceChildren();
  const row = makeRow(record);
  row.classList.add('flash');
  body.prepend(row);
  table.records.unshift(record);
  table.total++;
  while (table.records.length > view.size) {
    const dropped = table.records.pop()!;
    const old = table.rows.get(dropped.task_id);
    if (old) old.remove();
    table.rows.delete(dropped.task_id);
  }
  renderPager();
  updateSelectionUi();
}

function renderNewNotice(): void {
  const box = $('#new-notice');
  box.hidden = table.newCount === 0;
  $('#new-text').textContent = `${plural(table.newCount, 'new task')} match these filters.`;
}

function renderPager(): void {
  const start = table.total === 0 ? 0 : (view.page - 1) * view.size + 1;
  const end = Math.min(table.total, (view.page - 1) * view.size + table.records.length);
  $('#pager-text').textContent = table.total === 0 ? 'No tasks' : `${fmtNumber(start)}–${fmtNumber(end)} of ${fmtNumber(table.total)}`;
  $<HTMLButtonElement>('#prev').disabled = view.page <= 1;
  $<HTMLButtonElement>('#next').disabled = view.page * view.size >= table.total;
  $('#count-tasks').textContent = fmtNumber(table.total);
  $<HTMLSelectElement>('#page-size').value = String(view.size);
  const exportParams = new URLSearchParams(Object.assign(filterParams(), { sort: view.sort, limit: String(DEFAULT_EXPORT_ROWS) }));
  $<HTMLAnchorElement>('#export').href = `${CONFIG.base}/export.csv?${exportParams}`;
}

export function renderSortHeaders(): void {
  for (const th of $$('#tasks th[data-sort]')) {
    const key = th.dataset.sort;
    if (view.sort === key) th.setAttribute('aria-sort', 'ascending');
    else if (view.sort === `-${key}`) th.setAttribute('aria-sort', 'descending');
    else th.removeAttribute('aria-sort');
  }
}

/** Durations of running rows tick every second; widths do not change (tabular numbers). */
export function tickElapsed(): void {
  const now = Date.now();
  for (const el of $$('#tasks-body .elapsed')) el.textContent = fmtDuration((now - Number(el.dataset.start)) / 1000);
}
