// The list's filters and sort: changing them, and showing them in the controls.

import { TaskSort } from '../../task/task-query';
import { doc } from './config';
import { renderCounterFilter } from './counters';
import { $, h } from './dom';
import { renderFunctionOptions } from './functions';
import { followView } from './live';
import { renderInstanceOptions } from './instances';
import { clearSelection } from './selection';
import { loadTasks, renderSortHeaders } from './table';
import { switchTab } from './tabs';
import { FilterChanges, hasFilters, view, writeView } from './view';

/** Changes filters (resetting page and selection), then reloads the table. */
export function setFilters(changes: FilterChanges, replace?: boolean): void {
  Object.assign(view, changes, { page: 1 });
  clearSelection();
  if (view.tab !== 'tasks') switchTab('tasks', true);
  writeView(!!replace);
  syncFilterControls();
  void loadTasks();
  followView();
}

/** A sortable header was clicked: its column, descending first for times, then the other way. */
export function onSortClick(key: string): void {
  const descFirst = key === 'created_at' || key === 'duration';
  let next: string;
  if (view.sort === key) next = `-${key}`;
  else if (view.sort === `-${key}`) next = key;
  else next = descFirst ? `-${key}` : key;
  view.sort = next as TaskSort;
  view.page = 1;
  writeView(false);
  renderSortHeaders();
  void loadTasks();
}

export function syncFilterControls(): void {
  const search = $<HTMLInputElement>('#f-search');
  if (doc.activeElement !== search) search.value = view.search;
  $<HTMLSelectElement>('#f-status').value = view.status;
  renderFunctionOptions();
  renderInstanceOptions();
  const since = $<HTMLSelectElement>('#f-since');
  since.value = view.since;
  if (since.value !== view.since) {
    since.append(h('option', { value: view.since }, `Last ${view.since}`));
    since.value = view.since;
  }
  $('#f-clear').hidden = !hasFilters();
  renderCounterFilter();
  renderSortHeaders();
}
