// Tabs other than the task table: dead letters (GET /insights/dead-letters, replay by
// selection or by window), schedules (GET /schedules), registered functions
// (GET /registered) and the audit log (GET /audit, when auth is on).

const dead = { report: null, selected: new Set(), seq: 0, dirty: false, timer: 0 };

function switchTab(tab, keepUrl) {
  if (!TABS.includes(tab) || (tab === 'audit' && !CONFIG.auth)) tab = 'tasks';
  view.tab = tab;
  for (const button of $$('.tabs [role="tab"]')) {
    const on = button.dataset.tab === tab;
    button.setAttribute('aria-selected', String(on));
    button.tabIndex = on ? 0 : -1;
  }
  for (const panel of $$('.tab-panel')) panel.hidden = panel.id !== `panel-${tab}`;
  if (!keepUrl) writeView(false);
  if (tab === 'dead') loadDeadLetters();
  else if (tab === 'schedules') loadSchedules();
  else if (tab === 'registered') loadRegistered();
  else if (tab === 'audit') loadAudit();
}

function bindTabs() {
  const tabs = $$('.tabs [role="tab"]');
  for (const button of tabs) {
    button.addEventListener('click', () => switchTab(button.dataset.tab));
    button.addEventListener('keydown', (event) => {
      if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft' && event.key !== 'Home' && event.key !== 'End') return;
      const visible = tabs.filter((t) => !t.hidden);
      let i = visible.indexOf(button);
      if (event.key === 'ArrowRight') i = (i + 1) % visible.length;
      else if (event.key === 'ArrowLeft') i = (i - 1 + visible.length) % visible.length;
      else if (event.key === 'Home') i = 0;
      else i = visible.length - 1;
      event.preventDefault();
      visible[i].focus();
      switchTab(visible[i].dataset.tab);
    });
  }
}

// ---- dead letters -------------------------------------------------------------------------

async function loadDeadLetters() {
  const seq = ++dead.seq;
  dead.dirty = false;
  const query = { since: view.dlSince };
  if (view.dlFunc) query.func_name = view.dlFunc;
  $('#dl-since').value = view.dlSince;
  try {
    const { data } = await api('/insights/dead-letters', { query });
    if (seq !== dead.seq) return;
    dead.report = data;
    const known = new Set(data.groups.map((g) => g.signature));
    for (const signature of [...dead.selected]) if (!known.has(signature)) dead.selected.delete(signature);
    renderDeadLetters();
  } catch (error) {
    if (seq !== dead.seq) return;
    clear($('#dl-body')).append(h('tr', { class: 'placeholder' }, h('td', { colspan: 7 }, `Could not load dead letters: ${error.message}`)));
  }
}

function renderDeadLetters() {
  const report = dead.report;
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
    const statuses = Object.entries(group.statuses).map(([s, n]) => `${fmtNumber(n)} ${s}`).join(', ');
    body.append(
      h('tr', { dataset: { signature: group.signature } },
        h('td', { class: 'c-select' }, box),
        h('td', { class: 'sig', title: group.error }, group.signature),
        h('td', { class: 'num', title: statuses }, fmtNumber(group.count)),
        h('td', { class: 'mono', title: group.functions.join(', ') }, group.functions.slice(0, 2).join(', ') + (group.functions.length > 2 ? ` +${group.functions.length - 2}` : '')),
        h('td', null, timeEl(group.first_seen)),
        h('td', null, timeEl(group.last_seen)),
        h('td', null, h('button', { type: 'button', class: 'link mono', title: 'Open the newest task of this group', onclick: () => openDetail(group.sample_task_id) }, shortId(group.sample_task_id))),
      ),
    );
  }
  renderDeadSelection();
}

function selectedDeadIds() {
  const ids = [];
  let tasks = 0;
  for (const group of (dead.report && dead.report.groups) || []) {
    if (!dead.selected.has(group.signature)) continue;
    ids.push(...group.task_ids);
    tasks += group.count;
  }
  return { ids, tasks };
}

function renderDeadSelection() {
  const { ids } = selectedDeadIds();
  const button = $('#dl-replay-selected');
  button.disabled = ids.length === 0;
  button.textContent = ids.length ? `Replay selected (${fmtNumber(ids.length)})` : 'Replay selected';
  const groups = (dead.report && dead.report.groups) || [];
  const all = $('#dl-select-all');
  all.checked = groups.length > 0 && dead.selected.size === groups.length;
  all.indeterminate = dead.selected.size > 0 && dead.selected.size < groups.length;
}

async function replaySelected() {
  const { ids, tasks } = selectedDeadIds();
  if (!ids.length) return;
  const capped = tasks > ids.length ? ` (the newest ${fmtNumber(ids.length)} of ${fmtNumber(tasks)})` : '';
  if (!(await confirmDialog('Replay selected groups', `Run ${plural(ids.length, 'task')}${capped} again as new tasks?`, 'Replay'))) return;
  try {
    retryToast(await bulkRetry(ids), 'Replayed');
    dead.selected.clear();
    loadDeadLetters();
    refreshAll(true);
  } catch (error) {
    toast(`Replay failed: ${error.message}`, 'error');
  }
}

const WINDOW_TEXT = { '1h': 'the last hour', '6h': 'the last 6 hours', '24h': 'the last 24 hours', '7d': 'the last 7 days', '30d': 'the last 30 days', all: 'all time' };

async function replayWindow() {
  const since = view.dlSince;
  const fn = view.dlFunc;
  const scope = `${fn ? `of ${fn} ` : ''}created in ${WINDOW_TEXT[since] || `the last ${since}`}`;
  const count = dead.report ? dead.report.groups.reduce((n, g) => n + g.count, 0) : null;
  const counted = count === null ? '' : ` (${dead.report.truncated ? 'more than ' : ''}${plural(count, 'task')})`;
  if (!(await confirmDialog('Replay failed tasks', `Run every failed or interrupted task ${scope}${counted} again as a new task? Tasks already replayed are skipped.`, 'Replay'))) return;
  try {
    const query = { since };
    if (fn) query.func_name = fn;
    const { data } = await api('/retry-failed', { method: 'POST', query });
    retryToast(data, 'Replayed');
    loadDeadLetters();
    refreshAll(true);
  } catch (error) {
    toast(`Replay failed: ${error.message}`, 'error');
  }
}

/** New failures refresh the open dead-letter tab (at most every 5 s), keeping the selection. */
function deadOnRecord(record) {
  if (!RETRYABLE.has(record.status) || view.tab !== 'dead') return;
  if (dead.timer) return;
  dead.timer = setTimeout(() => {
    dead.timer = 0;
    if (view.tab === 'dead') loadDeadLetters();
  }, 5000);
}

function bindDeadLetters() {
  $('#dl-since').addEventListener('change', (event) => {
    view.dlSince = event.target.value;
    dead.selected.clear();
    writeView(false);
    loadDeadLetters();
  });
  $('#dl-func').addEventListener('change', (event) => {
    view.dlFunc = event.target.value;
    dead.selected.clear();
    writeView(false);
    loadDeadLetters();
  });
  $('#dl-select-all').addEventListener('change', (event) => {
    dead.selected.clear();
    if (event.target.checked) for (const g of (dead.report && dead.report.groups) || []) dead.selected.add(g.signature);
    renderDeadLetters();
  });
  $('#dl-replay-selected').addEventListener('click', replaySelected);
  $('#dl-replay-window').addEventListener('click', replayWindow);
}

// ---- schedules, registered, audit -----------------------------------------------------------

async function loadSchedules() {
  const body = $('#sched-body');
  try {
    const { data } = await api('/schedules');
    $('#count-schedules').textContent = data.length ? fmtNumber(data.length) : '';
    clear(body);
    if (!data.length) {
      body.append(h('tr', { class: 'placeholder' }, h('td', { colspan: 6 }, 'No scheduled tasks yet. Methods decorated with @ScheduledTask appear here with their next and last runs.')));
      return;
    }
    for (const s of data) {
      body.append(
        h('tr', null,
          h('td', { class: 'mono' }, s.func_name),
          h('td', null, h('code', null, s.trigger)),
          h('td', null, timeEl(s.next_run, fullFormat)),
          h('td', null, timeEl(s.last_run)),
          h('td', null, s.last_status ? statusBadge(s.last_status) : h('span', { class: 'none' }, '–')),
          h('td', null, s.last_task_id ? h('button', { type: 'button', class: 'link mono', onclick: () => openDetail(s.last_task_id) }, shortId(s.last_task_id)) : h('span', { class: 'none' }, '–'))),
      );
    }
  } catch (error) {
    clear(body).append(h('tr', { class: 'placeholder' }, h('td', { colspan: 6 }, `Could not load schedules: ${error.message}`)));
  }
}

async function loadRegistered() {
  const box = $('#reg-body');
  try {
    const { data } = await api('/registered');
    $('#count-registered').textContent = data.length ? fmtNumber(data.length) : '';
    clear(box);
    if (!data.length) {
      box.append(h('p', { class: 'empty' }, 'No @BackgroundTask is registered in this application.'));
      return;
    }
    for (const task of data) {
      const o = task.options || {};
      const pills = [];
      pills.push(h('span', { class: `pill ${o.retries > 0 ? 'pill-accent' : ''}` }, o.retries === 1 ? '1 retry' : `${fmtNumber(o.retries || 0)} retries`));
      if (o.delay > 0) pills.push(h('span', { class: 'pill' }, `${o.delay} s delay`));
      if (o.delay > 0 && o.backoff !== 1) pills.push(h('span', { class: 'pill' }, `×${o.backoff} back-off`));
      if (o.timeout) pills.push(h('span', { class: 'pill' }, `${o.timeout} s timeout`));
      if (o.priority !== null && o.priority !== undefined) pills.push(h('span', { class: 'pill' }, `priority ${o.priority}`));
      if (o.persist) pills.push(h('span', { class: 'pill' }, 'persist'));
      if (o.requeueOnInterrupt) pills.push(h('span', { class: 'pill' }, 'requeue on interrupt'));
      if (o.eager) pills.push(h('span', { class: 'pill' }, 'eager'));
      const f = functionInsight(task.name);
      box.append(
        h('article', { class: 'reg-card' },
          h('h3', null, task.name),
          h('div', { class: 'pills' }, pills),
          f && f.total
            ? h('p', { class: 'small muted' }, `${plural(f.total, 'run')}, ${fmtRate(f.success_rate)} success, p95 ${fmtDuration(f.p95_duration_seconds)} · `,
              h('button', { type: 'button', class: 'link', onclick: () => setFilters({ func: task.name, status: '', since: '', search: '' }) }, 'show tasks'))
            : h('p', { class: 'small muted' }, 'No runs yet.')),
      );
    }
  } catch (error) {
    clear(box).append(h('p', { class: 'empty' }, `Could not load registered tasks: ${error.message}`));
  }
}

async function loadAudit() {
  const body = $('#audit-body');
  try {
    const { data } = await api('/audit', { query: { limit: '200' } });
    clear(body);
    if (!data.length) {
      body.append(h('tr', { class: 'placeholder' }, h('td', { colspan: 5 }, 'No admin actions yet.')));
      return;
    }
    for (const entry of data) {
      const details = Object.entries(entry.detail || {}).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
      body.append(
        h('tr', null,
          h('td', null, timeEl(entry.timestamp)),
          h('td', null, h('span', { class: `pill ${entry.action === 'cancel' || entry.action === 'delete_history' ? '' : 'pill-accent'}` }, entry.action.replace('_', ' '))),
          h('td', null, entry.task_id && entry.task_id !== 'bulk'
            ? h('button', { type: 'button', class: 'link mono', onclick: () => openDetail(entry.task_id) }, shortId(entry.task_id))
            : h('span', { class: 'none' }, entry.task_id || '–')),
          h('td', null, entry.actor),
          h('td', { class: 'small', title: details }, details || '–')),
      );
    }
  } catch (error) {
    clear(body).append(h('tr', { class: 'placeholder' }, h('td', { colspan: 5 }, `Could not load the audit log: ${error.message}`)));
  }
}
