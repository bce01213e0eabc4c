// Selecting rows of the task table: one by one, the page, or every matching task.

import { $ } from './dom';
import { fmtNumber } from './format';
import { table } from './table-state';

export function clearSelection(): void {
  table.selected.clear();
  table.allMatching = false;
  for (const tr of table.rows.values()) {
    tr.classList.remove('selected');
    const box = $<HTMLInputElement>('.row-select', tr);
    if (box) box.checked = false;
  }
  updateSelectionUi();
}

export function toggleSelect(id: string, on: boolean): void {
  if (table.allMatching) {
    table.allMatching = false;
    table.selected = new Set(table.records.map((r) => r.task_id));
  }
  if (on) table.selected.add(id);
  else table.selected.delete(id);
  const tr = table.rows.get(id);
  if (tr) tr.classList.toggle('selected', on);
  updateSelectionUi();
}

export function selectPage(on: boolean): void {
  table.allMatching = false;
  for (const record of table.records) {
    if (on) table.selected.add(record.task_id);
    else table.selected.delete(record.task_id);
  }
  for (const tr of table.rows.values()) {
    tr.classList.toggle('selected', on);
    const box = $<HTMLInputElement>('.row-select', tr);
    if (box) box.checked = on;
  }
  updateSelectionUi();
}

export function selectAllMatching(): void {
  table.allMatching = true;
  updateSelectionUi();
}

export function updateSelectionUi(): void {
  const pageIds = table.records.map((r) => r.task_id);
  const onPage = pageIds.filter((id) => table.allMatching || table.selected.has(id)).length;
  const header = $<HTMLInputElement>('#select-page');
  header.checked = pageIds.length > 0 && onPage === pageIds.length;
  header.indeterminate = onPage > 0 && onPage < pageIds.length;
  const count = table.allMatching ? table.total : table.selected.size;
  $('#bulkbar').hidden = count === 0;
  $('#bulk-text').textContent = table.allMatching ? `All ${fmtNumber(table.total)} matching tasks selected` : `${fmtNumber(count)} selected`;
  const all = $('#bulk-all');
  all.hidden = table.allMatching || !(pageIds.length > 0 && onPage === pageIds.length && table.total > pageIds.length);
  all.textContent = `Select all ${fmtNumber(table.total)} matching tasks`;
}
