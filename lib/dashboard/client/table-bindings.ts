// The task table's controls: rows (click, keys, checkboxes), paging, sorting,
// filters, the counters as status filters, bulk actions, export.

import { DEFAULT_EXPORT_ROWS } from '../../task/request-limits';
import { bulkCancelAction, bulkRetryAction, clearHistoryAction } from './bulk-actions';
import { $, $$ } from './dom';
import { onSortClick, setFilters } from './filters';
import { fmtNumber, plural } from './format';
import { page } from './page-actions';
import { clearSelection, selectAllMatching, selectPage, toggleSelect } from './selection';
import { loadTasks, tickElapsed } from './table';
import { table } from './table-state';
import { toast } from './toast';
import { view, writeView } from './view';

function bindRows(): void {
  const body = $('#tasks-body');
  body.addEventListener('click', (event) => {
    const target = event.target as HTMLElement;
    const tr = target.closest<HTMLElement>('tr[data-id]');
    if (!tr || target.closest('button, a, input')) return;
    page.openDetail(tr.dataset.id!, tr);
  });
  body.addEventListener('change', (event) => {
    const target = event.target as HTMLInputElement;
    if (!target.classList.contains('row-select')) return;
    toggleSelect(target.closest<HTMLElement>('tr')!.dataset.id!, target.checked);
  });
  body.addEventListener('keydown', (event) => {
    const target = event.target as HTMLElement;
    const tr = target.closest<HTMLElement>('tr[data-id]');
    if (!tr) return;
    if (target === tr && (event.key === 'Enter' || event.key === ' ')) {
      event.preventDefault();
      page.openDetail(tr.dataset.id!, tr);
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      const next = (event.key === 'ArrowDown' ? tr.nextElementSibling : tr.previousElementSibling) as HTMLElement | null;
      if (next && next.dataset.id) {
        event.preventDefault();
        next.focus();
      }
    }
  });
}

function bindPaging(): void {
  for (const th of $$('#tasks th[data-sort]')) $('.sort', th).addEventListener('click', () => onSortClick(th.dataset.sort!));
  $('#prev').addEventListener('click', () => {
    view.page = Math.max(1, view.page - 1);
    writeView(false);
    void loadTasks();
  });
  $('#next').addEventListener('click', () => {
    view.page++;
    writeView(false);
    void loadTasks();
  });
  $('#page-size').addEventListener('change', (event) => {
    view.size = Number((event.target as HTMLSelectElement).value);
    view.page = 1;
    writeView(false);
    void loadTasks();
  });
}

function bindFilters(): void {
  const search = $<HTMLInputElement>('#f-search');
  let typing = 0;
  search.addEventListener('input', () => {
    clearTimeout(typing);
    const value = search.value.trim();
    typing = setTimeout(() => setFilters({ search: value }, true), 250);
  });
  $('#filters').addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(typing);
    setFilters({ search: search.value.trim() });
  });
  const selectValue = (event: Event) => (event.target as HTMLSelectElement).value;
  $('#f-status').addEventListener('change', (event) => setFilters({ status: selectValue(event) }));
  $('#f-func').addEventListener('change', (event) => setFilters({ func: selectValue(event) }));
  $('#f-instance').addEventListener('change', (event) => setFilters({ instance: selectValue(event) }));
  $('#f-since').addEventListener('change', (event) => setFilters({ since: selectValue(event) }));
  $('#f-clear').addEventListener('click', () => {
    search.value = '';
    setFilters({ status: '', func: '', instance: '', since: '', search: '' });
  });
  for (const button of $$('#counters button.counter')) {
    button.addEventListener('click', () => setFilters({ status: view.status === button.dataset.filter ? '' : button.dataset.filter! }));
  }
}

export function bindTable(): void {
  bindRows();
  $('#select-page').addEventListener('change', (event) => selectPage((event.target as HTMLInputElement).checked));
  $('#bulk-all').addEventListener('click', selectAllMatching);
  $('#bulk-clear').addEventListener('click', clearSelection);
  $('#bulk-retry').addEventListener('click', bulkRetryAction);
  $('#bulk-cancel').addEventListener('click', bulkCancelAction);
  $('#new-show').addEventListener('click', () => loadTasks());
  bindPaging();
  bindFilters();
  $('#export').addEventListener('click', () => {
    const n = Math.min(table.total, DEFAULT_EXPORT_ROWS);
    toast(
      table.total > DEFAULT_EXPORT_ROWS ? `Exporting the first ${fmtNumber(n)} of ${fmtNumber(table.total)} tasks` : `Exporting ${plural(n, 'task')}`,
    );
  });
  $('#clear-history').addEventListener('click', clearHistoryAction);
  setInterval(tickElapsed, 1000);
}
