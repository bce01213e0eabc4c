// Bulk actions on the task table's selection (or on every task matching the
// filters), and clearing the history.

import { api, bulkRetry, collectIds, countTasks, errorMessage, taskPath } from './api';
import { confirmDialog, retryToast } from './dialogs';
import { h } from './dom';
import { fmtNumber, plural } from './format';
import type { DeleteHistoryResult } from '../../task/bulk-retry-result';
import { RETRYABLE_STATUSES } from '../../task/task-status';
import { page } from './page-actions';
import { clearSelection } from './selection';
import { table } from './table-state';
import { CANCELLABLE, CANCELLABLE_STATUSES, RETRYABLE } from './task-state';
import { toast } from './toast';
import { pool } from './util';
import { filterParams, view } from './view';

/** Tasks one "retry all matching" retries at most (the newest first). */
const BULK_RETRY_CAP = 50000;
/** Tasks one "cancel all matching" cancels at most: one request each. */
const BULK_CANCEL_CAP = 5000;

/** The statuses of `allowed` that the status filter lets through. */
function statusesToAct(allowed: ReadonlySet<string>, all: readonly string[]): string[] {
  return view.status ? (allowed.has(view.status) ? [view.status] : []) : [...all];
}

async function countMatching(statuses: string[]): Promise<number> {
  const counts = await Promise.all(statuses.map((status) => countTasks(Object.assign(filterParams(), { status }))));
  return counts.reduce((a, b) => a + b, 0);
}

async function collectMatching(statuses: string[], cap: number): Promise<string[]> {
  const ids: string[] = [];
  for (const status of statuses) ids.push(...(await collectIds(Object.assign(filterParams(), { status }), cap - ids.length)));
  return ids;
}

export async function bulkRetryAction(): Promise<void> {
  try {
    if (!table.allMatching) {
      const ids = [...table.selected];
      if (
        !(await confirmDialog(
          `Retry ${plural(ids.length, 'task')}?`,
          'Failed and interrupted tasks among them run again as new tasks; the others are skipped.',
          'Retry',
        ))
      )
        return;
      retryToast(await bulkRetry(ids));
    } else {
      const statuses = statusesToAct(RETRYABLE, RETRYABLE_STATUSES);
      const n = await countMatching(statuses);
      if (n === 0) return toast('Nothing to retry: no failed or interrupted task matches these filters.');
      const capped = n > BULK_RETRY_CAP ? ` The newest ${fmtNumber(BULK_RETRY_CAP)} are retried.` : '';
      if (
        !(await confirmDialog(
          `Retry ${plural(n, 'task')}?`,
          `Every failed or interrupted task matching the current filters runs again as a new task.${capped}`,
          'Retry all',
        ))
      )
        return;
      toast(`Retrying ${plural(Math.min(n, BULK_RETRY_CAP), 'task')}…`);
      retryToast(await bulkRetry(await collectMatching(statuses, BULK_RETRY_CAP)));
    }
    clearSelection();
    void page.refreshAll(true);
  } catch (error) {
    toast(`Retry failed: ${errorMessage(error)}`, 'error');
  }
}

async function cancelIds(ids: string[]): Promise<void> {
  const results = await pool(ids, 6, (id) => api(`${taskPath(id)}/cancel`, { method: 'POST' }));
  const done = results.filter((r) => r.ok).length;
  const skipped = results.length - done;
  toast(`Cancelled ${plural(done, 'task')}${skipped ? `, ${fmtNumber(skipped)} skipped (already finished)` : ''}`, done ? 'info' : 'error');
}

export async function bulkCancelAction(): Promise<void> {
  try {
    if (!table.allMatching) {
      const ids = [...table.selected];
      if (
        !(await confirmDialog(
          `Cancel ${plural(ids.length, 'task')}?`,
          'Pending tasks among them never run; running ones are stopped. Finished tasks are skipped.',
          'Cancel tasks',
          true,
        ))
      )
        return;
      await cancelIds(ids);
    } else {
      const statuses = statusesToAct(CANCELLABLE, CANCELLABLE_STATUSES);
      const n = await countMatching(statuses);
      if (n === 0) return toast('Nothing to cancel: no pending or running task matches these filters.');
      const capped = n > BULK_CANCEL_CAP ? ` The newest ${fmtNumber(BULK_CANCEL_CAP)} are cancelled.` : '';
      if (
        !(await confirmDialog(
          `Cancel ${plural(n, 'task')}?`,
          `Every pending or running task matching the current filters is cancelled.${capped}`,
          'Cancel all',
          true,
        ))
      )
        return;
      await cancelIds(await collectMatching(statuses, BULK_CANCEL_CAP));
    }
    clearSelection();
    void page.refreshAll(true);
  } catch (error) {
    toast(`Cancel failed: ${errorMessage(error)}`, 'error');
  }
}

export async function clearHistoryAction(): Promise<void> {
  const value = h('input', { type: 'number', min: '1', step: '1', value: '30', 'aria-label': 'Older than', required: true, class: 'history-value' });
  const unit = h(
    'select',
    { 'aria-label': 'Unit' },
    h('option', { value: 'min' }, 'minutes'),
    h('option', { value: 'hour' }, 'hours'),
    h('option', { value: 'day', selected: true }, 'days'),
  );
  const extra = h('span', { class: 'field' }, h('span', null, 'Older than'), value, unit);
  const ok = await confirmDialog(
    'Clear history',
    'Finished tasks (success, failed, interrupted, cancelled) that ended before the window are deleted from memory and the database. Pending and running tasks are never deleted. This cannot be undone.',
    'Delete',
    true,
    extra,
  );
  if (!ok) return;
  const n = Number(value.value);
  if (!Number.isInteger(n) || n < 1) return toast('Enter a whole number of at least 1', 'error');
  try {
    const { data } = await api<DeleteHistoryResult>('/history', { method: 'DELETE', query: { value: String(n), unit: unit.value } });
    toast(`Deleted ${plural(data.deleted, 'task')}`);
    void page.refreshAll(true);
  } catch (error) {
    toast(`Could not clear history: ${errorMessage(error)}`, 'error');
  }
}
