// The dead-letter tab: failed and interrupted tasks grouped by error signature
// (GET /insights/dead-letters), replayed by selection or by window.

import type { BulkRetryResult } from '../../task/bulk-retry-result';
import type { DeadLetterReport } from '../../task/task-insights';
import type { TaskRecord } from '../../task/task-record';
import { QueryParams, api, bulkRetry, errorMessage } from './api';
import { confirmDialog, retryToast } from './dialogs';
import { $, clear, h } from './dom';
import { fmtNumber, plural, shortId, timeEl } from './format';
import { page } from './page-actions';
import { RETRYABLE } from './task-state';
import { toast } from './toast';
import { view, writeView } from './view';

const dead = {
  report: null as DeadLetterReport | null,
  /** Signatures of the selected groups. */
  selected: new Set<string>(),
  seq: 0,
  timer: 0,
};

export async function loadDeadLetters(): Promise<void> {
  const seq = ++dead.seq;
  const query: QueryParams = { since: view.dlSince };
  if (view.dlFunc) query.func_name = view.dlFunc;
  $<HTMLSelectElement>('#dl-since').value = view.dlSince;
  try {
    const { data } = await api<DeadLetterReport>('/insights/dead-letters', { query });
    if (seq !== dead.seq) return;
    dead.report = data;
    const known = new Set(data.groups.map((g) => g.signature));
    for (const signature of [...dead.selected]) if (!known.has(signature)) dead.selected.delete(signature);
    renderDeadLetters();
  } catch (error) {
    if (seq !== dead.seq) return;
    clear($('#dl-body')).append(h('tr', { class: 'placeholder' }, h('td', { colspan: 7 }, `Could not load dead letters: ${errorMessage(error)}`)));
  }
}

function renderDeadLetters(): void {
  const report = dead.report!;
  const body = clear($('#dl-body'));
  const note = $('#dl-note');
  note.textContent = report.truncated
    ? `Grouped over the newest ${fmtNumber(report.scanned)} failed and interrupted tasks of the window (there are more). A replay runs each task again as a new task; the originals stay as they are.`
    : 'Failed and interrupted tasks, grouped by error with ids and numbers masked. A replay runs each task again as a new task; the originals stay as they are.';
  if (!report.groups.length) {
    body.append(h('tr', { class: 'placeholder' }, h('td', { colspan: 7 }, 'No failed or interrupted tasks in this window.')));
  }
  for (const group of report.groups) {
    const box = h('input', { type: 'checkbox', 'aria-label': `Select the ${fmtNumber(group.count)} tasks failing with ${group.signature}` });
    box.checked = dead.selected.has(group.signature);
    box.addEventListener('change', () => {
      if (box.checked) dead.selected.add(group.signature);
      else dead.selected.delete(group.signature);
      renderDeadSelection();
    });
    const statuses = Object.entries(group.statuses)
      .map(([s, n]) => `${fmtNumber(n)} ${s}`)
      .join(', ');
    body.append(
      h(
        'tr',
        { dataset: { signature: group.signature } },
        h('td', { class: 'c-select' }, box),
        h('td', { class: 'sig', title: group.error }, group.signature),
        h('td', { class: 'num', title: statuses }, fmtNumber(group.count)),
        h(
          'td',
          { class: 'mono', title: group.functions.join(', ') },
          group.functions.slice(0, 2).join(', ') + (group.functions.length > 2 ? ` +${group.functions.length - 2}` : ''),
        ),
        h('td', null, timeEl(group.first_seen)),
        h('td', null, timeEl(group.last_seen)),
        h(
          'td',
          null,
          h(
            'button',
            { type: 'button', class: 'link mono', title: 'Open the newest task of this group', onclick: () => page.openDetail(group.sample_task_id) },
            shortId(group.sample_task_id),
          ),
        ),
      ),
    );
  }
  renderDeadSelection();
}

function selectedDeadIds(): { ids: string[]; tasks: number } {
  const ids: string[] = [];
  let tasks = 0;
  for (const group of (dead.report && dead.report.groups) || []) {
    if (!dead.selected.has(group.signature)) continue;
    ids.push(...group.task_ids);
    tasks += group.count;
  }
  return { ids, tasks };
}

function renderDeadSelection(): void {
  const { ids } = selectedDeadIds();
  const button = $<HTMLButtonElement>('#dl-replay-selected');
  button.disabled = ids.length === 0;
  button.textContent = ids.length ? `Replay selected (${fmtNumber(ids.length)})` : 'Replay selected';
  const groups = (dead.report && dead.report.groups) || [];
  const all = $<HTMLInputElement>('#dl-select-all');
  all.checked = groups.length > 0 && dead.selected.size === groups.length;
  all.indeterminate = dead.selected.size > 0 && dead.selected.size < groups.length;
}

async function replaySelected(): Promise<void> {
  const { ids, tasks } = selectedDeadIds();
  if (!ids.length) return;
  const capped = tasks > ids.length ? ` (the newest ${fmtNumber(ids.length)} of ${fmtNumber(tasks)})` : '';
  if (!(await confirmDialog('Replay selected groups', `Run ${plural(ids.length, 'task')}${capped} again as new tasks?`, 'Replay'))) return;
  try {
    retryToast(await bulkRetry(ids), 'Replayed');
    dead.selected.clear();
    void loadDeadLetters();
    void page.refreshAll(true);
  } catch (error) {
    toast(`Replay failed: ${errorMessage(error)}`, 'error');
  }
}

const WINDOW_TEXT: Record<string, string> = {
  '1h': 'the last hour',
  '6h': 'the last 6 hours',
  '24h': 'the last 24 hours',
  '7d': 'the last 7 days',
  '30d': 'the last 30 days',
  all: 'all time',
};

async function replayWindow(): Promise<void> {
  const since = view.dlSince;
  const fn = view.dlFunc;
  const scope = `${fn ? `of ${fn} ` : ''}created in ${WINDOW_TEXT[since] || `the last ${since}`}`;
  const report = dead.report;
  const count = report ? report.groups.reduce((n, g) => n + g.count, 0) : null;
  const counted = count === null ? '' : ` (${report!.truncated ? 'more than ' : ''}${plural(count, 'task')})`;
  if (
    !(await confirmDialog(
      'Replay failed tasks',
      `Run every failed or interrupted task ${scope}${counted} again as a new task? Tasks already replayed are skipped.`,
      'Replay',
    ))
  )
    return;
  try {
    const query: QueryParams = { since };
    if (fn) query.func_name = fn;
    const { data } = await api<BulkRetryResult>('/retry-failed', { method: 'POST', query });
    retryToast(data, 'Replayed');
    void loadDeadLetters();
    void page.refreshAll(true);
  } catch (error) {
    toast(`Replay failed: ${errorMessage(error)}`, 'error');
  }
}

/** New failures refresh the open dead-letter tab (at most every 5 s), keeping the selection. */
export function deadOnRecord(record: TaskRecord): void {
  if (RETRYABLE.has(record.status)) deadLettersMayHaveChanged();
}

/** Failures the stream may not have carried (a filtered view, a burst): the open tab refreshes the same way. */
export function deadLettersMayHaveChanged(): void {
  if (view.tab !== 'dead' || dead.timer) return;
  dead.timer = setTimeout(() => {
    dead.timer = 0;
    if (view.tab === 'dead') void loadDeadLetters();
  }, 5000);
}

export function bindDeadLetters(): void {
  $('#dl-since').addEventListener('change', (event) => {
    view.dlSince = (event.target as HTMLSelectElement).value;
    dead.selected.clear();
    writeView(false);
    void loadDeadLetters();
  });
  $('#dl-func').addEventListener('change', (event) => {
    view.dlFunc = (event.target as HTMLSelectElement).value;
    dead.selected.clear();
    writeView(false);
    void loadDeadLetters();
  });
  $('#dl-select-all').addEventListener('change', (event) => {
    dead.selected.clear();
    if ((event.target as HTMLInputElement).checked) for (const g of (dead.report && dead.report.groups) || []) dead.selected.add(g.signature);
    renderDeadLetters();
  });
  $('#dl-replay-selected').addEventListener('click', replaySelected);
  $('#dl-replay-window').addEventListener('click', replayWindow);
}
