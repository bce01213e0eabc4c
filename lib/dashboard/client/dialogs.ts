// The confirmation dialog and the toast that reports a retry.

import type { BulkRetryResult } from '../../task/bulk-retry-result';
import { $, clear } from './dom';
import { plural } from './format';
import { page } from './page-actions';
import { toast } from './toast';

/** Asks for confirmation in a modal dialog; resolves true on confirm. */
export function confirmDialog(title: string, text: string, okLabel?: string, danger?: boolean, extra?: Node): Promise<boolean> {
  const dialog = $<HTMLDialogElement>('#confirm');
  $('#confirm-title').textContent = title;
  $('#confirm-text').textContent = text;
  const extraBox = clear($('#confirm-extra'));
  if (extra) extraBox.append(extra);
  const ok = $('#confirm-ok');
  ok.textContent = okLabel || 'Confirm';
  ok.className = `btn ${danger ? 'btn-danger' : 'btn-primary'}`;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
    ok.focus();
  });
}

export function retryToast(result: BulkRetryResult, what?: string): void {
  const skipped = result.skipped ? `, ${plural(result.skipped, 'task')} skipped (not failed or interrupted, or no longer registered)` : '';
  const message = `${what || 'Retried'} ${plural(result.dispatched, 'task')}${skipped}`;
  const first = result.results && result.results.length === 1 ? result.results[0].new_task_id : null;
  toast(message, result.dispatched ? 'info' : 'error', first ? { label: 'Open', run: () => page.openDetail(first) } : null);
}
