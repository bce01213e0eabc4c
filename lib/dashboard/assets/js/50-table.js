// The task table: server-side paging, sorting and filtering (GET {path}), rows
// updated in place from the stream, new matching tasks inserted on top of page 1,
// selection and bulk actions, CSV export of the current filters.

const EXPORT_ROWS = 10000;
const BULK_RETRY_CAP = 50000;
const BULK_CANCEL_CAP = 5000;

const table = {
  records: [],
  rows: new Map(),
  total: 0,
  seq: 0,
  loadedOnce: false,
  selected: new Set(),
  allMatching: false,
  newCount: 0,
};

function listParams() {
  return Object.assign(filterParams(), { sort: view.sort, limit: String(view.size), offset: String((view.page - 1) * view.size) });
}

async function loadTasks(quiet) {
  const seq = ++table.seq;
  const tableEl = $('#tasks');
  if (!quiet) tableEl.setAttribute('aria-busy', 'true');
  performance.mark('tf-table-start');
  try {
    const { data, total } = await api('', { query: listParams() });
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
      renderTableMessage(`Could not load tasks: ${error.message}`, { label: 'Try again', run: () => loadTasks() });
      $('#pager-text').textContent = '';
    }
  } finally {
    if (seq === table.seq) tableEl.removeAttribute('aria-busy');
  }
}

function renderTableMessage(text, action) {
  const cell = h('td', { colspan: 9 }, h('div', null, text));
  if (action) cell.append(h('div', null, h('button', { type: 'button', class: 'link', onclick: action.run }, action.label)));
  clear($('#tasks-body')).append(h('tr', { class: 'placeholder' }, cell));
  table.records = [];
  table.rows.clear();
  updateSelectionUi();
}

function renderRows(records) {
  const body = $('#tasks-body');
  const active = doc.activeElement;
  const focusedId = active && active.closest && active.closest('#tasks-body tr[data-id]') ? active.closest('tr').dataset.id : null;
  const previous = new Map(table.records.map((r) => [r.task_id, r]));
  const oldRows = table.rows;
  table.rows = new Map();
  if (!records.length) {
    table.records = [];
    if (hasFilters()) renderTableMessage('No tasks match these filters.', { label: 'Clear filters', run: () => setFilters({ status: '', func: '', since: '', search: '' }) });
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
  if (focusedId && table.rows.has(focusedId)) table.rows.get(focusedId).focus({ preventScroll: true });
  updateSelectionUi();
}

function makeRow(record) {
  const tr = h('tr', { tabindex: '0', dataset: { id: record.task_id } });
  fillRow(tr, record);
  table.rows.set(record.task_id, tr);
  return tr;
}

function firstLine(text) {
  const line = String(text).split('\n', 1)[0];
  return line.length > 160 ? `${line.slice(0, 160)}…` : line;
}

function progressText(record) {
  return record.status === 'running' && record.progress !== null && record.progress !== undefined ? `${Math.round(record.progress * 100)}%` : '';
}

function durationCell(record) {
  if (record.status === 'running' && record.start_time) {
    return h('span', { class: 'elapsed', dataset: { start: String(parseTime(record.start_time)) }, title: 'Running for' }, fmtDuration((Date.now() - parseTime(record.start_time)) / 1000));
  }
  return record.duration === null || record.duration === undefined ? h('span', { class: 'none' }, '–') : fmtDuration(record.duration);
}

function fillRow(tr, record) {
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
    h('td', { class: 'c-func' },
      h('span', { class: 'func-cell' },
        h('span', { class: 'func-name mono', title: record.func_name }, record.func_name),
        record.source === 'scheduled' ? h('span', { class: 'pill pill-sched', title: 'Started by a schedule' }, 'scheduled') : null)),
    h('td', { class: 'c-status' }, statusBadge(record.status, progressText(record))),
    h('td', { class: 'c-prio' }, priorityBadge(record.priority)),
    h('td', { class: 'c-dur num' }, durationCell(record)),
    h('td', { class: 'c-retries num' }, record.retries_used ? fmtNumber(record.retries_used) : h('span', { class: 'none' }, '0')),
    h('td', { class: 'c-created time' }, timeEl(record.created_at)),
    h('td', { class: 'c-error' }, record.error ? h('span', { class: 'error-cell', title: record.error }, firstLine(record.error)) : ''),
  );
}

/** A change from the stream: update the row in place, or insert a new matching task on top. */
function tableOnRecord(record) {
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
    const dropped = table.records.pop();
    const old = table.rows.get(dropped.task_id);
    if (old) old.remove();
    table.rows.delete(dropped.task_id);
  }
  renderPager();
  updateSelectionUi();
}

function renderNewNotice() {
  const box = $('#new-notice');
  box.hidden = table.newCount === 0;
  $('#new-text').textContent = `${plural(table.newCount, 'new task')} match these filters.`;
}

function renderPager() {
  const start = table.total === 0 ? 0 : (view.page - 1) * view.size + 1;
  const end = Math.min(table.total, (view.page - 1) * view.size + table.records.length);
  $('#pager-text').textContent = table.total === 0 ? 'No tasks' : `${fmtNumber(start)}–${fmtNumber(end)} of ${fmtNumber(table.total)}`;
  $('#prev').disabled = view.page <= 1;
  $('#next').disabled = view.page * view.size >= table.total;
  $('#count-tasks').textContent = fmtNumber(table.total);
  $('#page-size').value = String(view.size);
  const exportParams = new URLSearchParams(Object.assign(filterParams(), { sort: view.sort, limit: String(EXPORT_ROWS) }));
  $('#export').href = `${CONFIG.base}/export.csv?${exportParams}`;
}

function renderSortHeaders() {
  for (const th of $$('#tasks th[data-sort]')) {
    const key = th.dataset.sort;
    if (view.sort === key) th.setAttribute('aria-sort', 'ascending');
    else if (view.sort === `-${key}`) th.setAttribute('aria-sort', 'descending');
    else th.removeAttribute('aria-sort');
  }
}

function onSortClick(key) {
  const descFirst = key === 'created_at' || key === 'duration';
  let next;
  if (view.sort === key) next = `-${key}`;
  else if (view.sort === `-${key}`) next = key;
  else next = descFirst ? `-${key}` : key;
  view.sort = next;
  view.page = 1;
  writeView(false);
  renderSortHeaders();
  loadTasks();
}

/** Changes filters (resetting page and selection), then reloads the table. */
function setFilters(changes, replace) {
  Object.assign(view, changes, { page: 1 });
  clearSelection();
  if (view.tab !== 'tasks') switchTab('tasks', true);
  writeView(!!replace);
  syncFilterControls();
  loadTasks();
}

function syncFilterControls() {
  const search = $('#f-search');
  if (doc.activeElement !== search) search.value = view.search;
  $('#f-status').value = view.status;
  renderFunctionOptions();
  $('#f-since').value = view.since;
  if ($('#f-since').value !== view.since) {
    $('#f-since').append(h('option', { value: view.since }, `Last ${view.since}`));
    $('#f-since').value = view.since;
  }
  $('#f-clear').hidden = !hasFilters();
  renderCounterFilter();
  renderSortHeaders();
}

// ---- selection and bulk actions -------------------------------------------------------------

function clearSelection() {
  table.selected.clear();
  table.allMatching = false;
  for (const [id, tr] of table.rows) {
    tr.classList.remove('selected');
    const box = $('.row-select', tr);
    if (box) box.checked = false;
    void id;
  }
  updateSelectionUi();
}

function toggleSelect(id, on) {
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

function selectPage(on) {
  table.allMatching = false;
  for (const record of table.records) {
    if (on) table.selected.add(record.task_id);
    else table.selected.delete(record.task_id);
  }
  for (const [id, tr] of table.rows) {
    tr.classList.toggle('selected', on);
    const box = $('.row-select', tr);
    if (box) box.checked = on;
    void id;
  }
  updateSelectionUi();
}

function updateSelectionUi() {
  const pageIds = table.records.map((r) => r.task_id);
  const onPage = pageIds.filter((id) => table.allMatching || table.selected.has(id)).length;
  const header = $('#select-page');
  header.checked = pageIds.length > 0 && onPage === pageIds.length;
  header.indeterminate = onPage > 0 && onPage < pageIds.length;
  const count = table.allMatching ? table.total : table.selected.size;
  $('#bulkbar').hidden = count === 0;
  $('#bulk-text').textContent = table.allMatching ? `All ${fmtNumber(table.total)} matching tasks selected` : `${fmtNumber(count)} selected`;
  const all = $('#bulk-all');
  all.hidden = table.allMatching || !(pageIds.length > 0 && onPage === pageIds.length && table.total > pageIds.length);
  all.textContent = `Select all ${fmtNumber(table.total)} matching tasks`;
}

/** Asks for confirmation in a modal dialog; resolves true on confirm. */
function confirmDialog(title, text, okLabel, danger, extra) {
  const dialog = $('#confirm');
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

function retryToast(result, what) {
  const skipped = result.skipped ? `, ${plural(result.skipped, 'task')} skipped (not failed or interrupted, or no longer registered)` : '';
  const message = `${what || 'Retried'} ${plural(result.dispatched, 'task')}${skipped}`;
  const first = result.results && result.results.length === 1 ? result.results[0].new_task_id : null;
  toast(message, result.dispatched ? 'info' : 'error', first ? { label: 'Open', run: () => openDetail(first) } : null);
}

async function bulkRetryAction() {
  try {
    if (!table.allMatching) {
      const ids = [...table.selected];
      if (!(await confirmDialog(`Retry ${plural(ids.length, 'task')}?`, 'Failed and interrupted tasks among them run again as new tasks; the others are skipped.', 'Retry'))) return;
      retryToast(await bulkRetry(ids));
    } else {
      const statuses = view.status ? (RETRYABLE.has(view.status) ? [view.status] : []) : ['failed', 'interrupted'];
      const counts = await Promise.all(statuses.map((status) => countTasks(Object.assign(filterParams(), { status }))));
      const n = counts.reduce((a, b) => a + b, 0);
      if (n === 0) return toast('Nothing to retry: no failed or interrupted task matches these filters.');
      const capped = n > BULK_RETRY_CAP ? ` The newest ${fmtNumber(BULK_RETRY_CAP)} are retried.` : '';
      if (!(await confirmDialog(`Retry ${plural(n, 'task')}?`, `Every failed or interrupted task matching the current filters runs again as a new task.${capped}`, 'Retry all'))) return;
      toast(`Retrying ${plural(Math.min(n, BULK_RETRY_CAP), 'task')}…`);
      const ids = [];
      for (const status of statuses) ids.push(...(await collectIds(Object.assign(filterParams(), { status }), BULK_RETRY_CAP - ids.length)));
      retryToast(await bulkRetry(ids));
    }
    clearSelection();
    refreshAll(true);
  } catch (error) {
    toast(`Retry failed: ${error.message}`, 'error');
  }
}

async function cancelIds(ids) {
  const results = await pool(ids, 6, (id) => api(`${taskPath(id)}/cancel`, { method: 'POST' }));
  const done = results.filter((r) => r.ok).length;
  const skipped = results.length - done;
  toast(`Cancelled ${plural(done, 'task')}${skipped ? `, ${fmtNumber(skipped)} skipped (already finished)` : ''}`, done ? 'info' : 'error');
}

async function bulkCancelAction() {
  try {
    if (!table.allMatching) {
      const ids = [...table.selected];
      if (!(await confirmDialog(`Cancel ${plural(ids.length, 'task')}?`, 'Pending tasks among them never run; running ones are stopped. Finished tasks are skipped.', 'Cancel tasks', true))) return;
      await cancelIds(ids);
    } else {
      const statuses = view.status ? (CANCELLABLE.has(view.status) ? [view.status] : []) : ['pending', 'running'];
      const counts = await Promise.all(statuses.map((status) => countTasks(Object.assign(filterParams(), { status }))));
      const n = counts.reduce((a, b) => a + b, 0);
      if (n === 0) return toast('Nothing to cancel: no pending or running task matches these filters.');
      const capped = n > BULK_CANCEL_CAP ? ` The newest ${fmtNumber(BULK_CANCEL_CAP)} are cancelled.` : '';
      if (!(await confirmDialog(`Cancel ${plural(n, 'task')}?`, `Every pending or running task matching the current filters is cancelled.${capped}`, 'Cancel all', true))) return;
      const ids = [];
      for (const status of statuses) ids.push(...(await collectIds(Object.assign(filterParams(), { status }), BULK_CANCEL_CAP - ids.length)));
      await cancelIds(ids);
    }
    clearSelection();
    refreshAll(true);
  } catch (error) {
    toast(`Cancel failed: ${error.message}`, 'error');
  }
}

async function clearHistoryAction() {
  const value = h('input', { type: 'number', min: '1', step: '1', value: '30', 'aria-label': 'Older than', required: true, class: 'history-value' });
  const unit = h('select', { 'aria-label': 'Unit' }, h('option', { value: 'min' }, 'minutes'), h('option', { value: 'hour' }, 'hours'), h('option', { value: 'day', selected: true }, 'days'));
  const extra = h('span', { class: 'field' }, h('span', null, 'Older than'), value, unit);
  const ok = await confirmDialog('Clear history', 'Finished tasks (success, failed, interrupted, cancelled) that ended before the window are deleted from memory and the database. Pending and running tasks are never deleted. This cannot be undone.', 'Delete', true, extra);
  if (!ok) return;
  const n = Number(value.value);
  if (!Number.isInteger(n) || n < 1) return toast('Enter a whole number of at least 1', 'error');
  try {
    const { data } = await api('/history', { method: 'DELETE', query: { value: String(n), unit: unit.value } });
    toast(`Deleted ${plural(data.deleted, 'task')}`);
    refreshAll(true);
  } catch (error) {
    toast(`Could not clear history: ${error.message}`, 'error');
  }
}

/** Durations of running rows tick every second; widths do not change (tabular numbers). */
function tickElapsed() {
  const now = Date.now();
  for (const el of $$('#tasks-body .elapsed')) el.textContent = fmtDuration((now - Number(el.dataset.start)) / 1000);
}

function bindTable() {
  const body = $('#tasks-body');
  body.addEventListener('click', (event) => {
    const tr = event.target.closest('tr[data-id]');
    if (!tr || event.target.closest('button, a, input')) return;
    openDetail(tr.dataset.id, tr);
  });
  body.addEventListener('change', (event) => {
    if (!event.target.classList.contains('row-select')) return;
    toggleSelect(event.target.closest('tr').dataset.id, event.target.checked);
  });
  body.addEventListener('keydown', (event) => {
    const tr = event.target.closest('tr[data-id]');
    if (!tr) return;
    if (event.target === tr && (event.key === 'Enter' || event.key === ' ')) {
      event.preventDefault();
      openDetail(tr.dataset.id, tr);
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      const next = event.key === 'ArrowDown' ? tr.nextElementSibling : tr.previousElementSibling;
      if (next && next.dataset.id) {
        event.preventDefault();
        next.focus();
      }
    }
  });
  $('#select-page').addEventListener('change', (event) => selectPage(event.target.checked));
  $('#bulk-all').addEventListener('click', () => {
    table.allMatching = true;
    updateSelectionUi();
  });
  $('#bulk-clear').addEventListener('click', clearSelection);
  $('#bulk-retry').addEventListener('click', bulkRetryAction);
  $('#bulk-cancel').addEventListener('click', bulkCancelAction);
  $('#new-show').addEventListener('click', () => loadTasks());
  for (const th of $$('#tasks th[data-sort]')) $('.sort', th).addEventListener('click', () => onSortClick(th.dataset.sort));
  $('#prev').addEventListener('click', () => {
    view.page = Math.max(1, view.page - 1);
    writeView(false);
    loadTasks();
  });
  $('#next').addEventListener('click', () => {
    view.page++;
    writeView(false);
    loadTasks();
  });
  $('#page-size').addEventListener('change', (event) => {
    view.size = Number(event.target.value);
    view.page = 1;
    writeView(false);
    loadTasks();
  });
  let typing = 0;
  $('#f-search').addEventListener('input', (event) => {
    clearTimeout(typing);
    const value = event.target.value.trim();
    typing = setTimeout(() => setFilters({ search: value }, true), 250);
  });
  $('#filters').addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(typing);
    setFilters({ search: $('#f-search').value.trim() });
  });
  $('#f-status').addEventListener('change', (event) => setFilters({ status: event.target.value }));
  $('#f-func').addEventListener('change', (event) => setFilters({ func: event.target.value }));
  $('#f-since').addEventListener('change', (event) => setFilters({ since: event.target.value }));
  $('#f-clear').addEventListener('click', () => {
    $('#f-search').value = '';
    setFilters({ status: '', func: '', since: '', search: '' });
  });
  for (const button of $$('#counters button.counter')) {
    button.addEventListener('click', () => setFilters({ status: view.status === button.dataset.filter ? '' : button.dataset.filter }));
  }
  $('#export').addEventListener('click', () => {
    const n = Math.min(table.total, EXPORT_ROWS);
    toast(table.total > EXPORT_ROWS ? `Exporting the first ${fmtNumber(n)} of ${fmtNumber(table.total)} tasks` : `Exporting ${plural(n, 'task')}`);
  });
  $('#clear-history').addEventListener('click', clearHistoryAction);
  setInterval(tickElapsed, 1000);
}
