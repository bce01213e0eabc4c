// The detail panel: every field, local times, tags, arguments (when allowed), logs
// with retry separators, error and stack trace, progress, function analytics,
// recent runs of the same function, cancel and retry.

const detail = {
  id: null,
  record: null,
  recent: null,
  opener: null,
  seq: 0,
  busy: null,
  /** Id of the new task created by the last retry from this panel. */
  retriedAs: null,
  missing: false,
};

const renderDetailSoon = perFrame(() => renderDetail());

async function openDetail(id, opener) {
  if (!id) return;
  if (opener) detail.opener = opener;
  else if (doc.activeElement && doc.activeElement !== doc.body && !$('#detail').contains(doc.activeElement)) detail.opener = doc.activeElement;
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
  markCurrentRow();
  const panel = $('#detail');
  panel.hidden = false;
  $('#detail-title').textContent = `Task ${shortId(id)}`;
  if (!detail.record) clear($('#detail-body')).append(h('p', { class: 'muted' }, 'Loading…'));
  $('#detail-title').focus();
  await loadDetail();
}

async function loadDetail() {
  const id = detail.id;
  if (!id) return;
  const seq = ++detail.seq;
  try {
    const { data } = await api(taskPath(id));
    if (seq !== detail.seq || detail.id !== id) return;
    detail.record = data;
    detail.missing = false;
    renderDetail();
    loadRecent();
    if (!overview.functions) refreshFunctions();
  } catch (error) {
    if (seq !== detail.seq || detail.id !== id) return;
    detail.missing = error.status === 404;
    clear($('#detail-body')).append(
      h('p', { class: 'muted' }, error.status === 404 ? 'This task does not exist (any more): it may have been removed by retention or by clearing the history.' : `Could not load the task: ${error.message}`),
    );
  }
}

async function loadRecent() {
  const record = detail.record;
  if (!record) return;
  try {
    const { data } = await api('', { query: { func_name: record.func_name, limit: '6' } });
    if (!detail.record || detail.record.func_name !== record.func_name) return;
    detail.recent = data;
    renderDetailSoon();
  } catch (e) {
    detail.recent = [];
  }
}

function closeDetail(fromHistory) {
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
  markCurrentRow();
  const back = detail.opener && detail.opener.isConnected ? detail.opener : id && table.rows.get(id);
  if (back) back.focus({ preventScroll: false });
}

function markCurrentRow() {
  for (const [id, tr] of table.rows) tr.classList.toggle('current', id === detail.id);
}

function detailOnRecord(record) {
  if (!detail.id) return;
  if (record.task_id === detail.id) {
    if (!isNewerState(detail.record, record)) return;
    detail.record = record;
    detail.missing = false;
    renderDetailSoon();
    return;
  }
  if (detail.recent && detail.record && record.func_name === detail.record.func_name) {
    const i = detail.recent.findIndex((r) => r.task_id === record.task_id);
    if (i >= 0) detail.recent[i] = record;
    else if (!detail.recent.length || parseTime(record.created_at) >= parseTime(detail.recent[0].created_at)) detail.recent = [record, ...detail.recent].slice(0, 6);
    else return;
    renderDetailSoon();
  }
}

function detailFunctionsChanged() {
  if (detail.record) renderDetailSoon();
}

function section(title, ...content) {
  return h('section', { class: 'detail-section' }, h('h3', null, title), ...content);
}

function renderDetail() {
  const record = detail.record;
  const body = $('#detail-body');
  if (!record || !detail.id) return;
  const scroll = body.scrollTop;
  const parts = [];
  parts.push(h('div', { class: 'detail-id' }, h('code', null, record.task_id), copyButton(record.task_id, 'task id')));
  parts.push(
    h('div', { class: 'detail-status' },
      statusBadge(record.status, progressText(record)),
      record.source === 'scheduled' ? h('span', { class: 'pill pill-sched' }, 'scheduled') : h('span', { class: 'pill' }, record.source),
      record.priority !== null && record.priority !== undefined ? h('span', { class: 'pill' }, 'priority ', String(record.priority)) : null,
      record.retries_used ? h('span', { class: 'pill' }, plural(record.retries_used, 'retry', 'retries')) : null),
  );
  parts.push(renderActions(record));
  if (record.progress !== null && record.progress !== undefined) parts.push(renderProgress(record));
  if (record.error || record.stacktrace) {
    parts.push(
      section('Error',
        record.error ? h('div', { class: 'error-message' }, record.error) : null,
        record.stacktrace ? h('pre', { class: 'code-block stack' }, record.stacktrace) : null),
    );
  }
  parts.push(section('Details', renderFields(record)));
  const tags = Object.entries(record.tags || {});
  if (tags.length) {
    parts.push(section('Tags', h('div', { class: 'tags' }, tags.map(([k, v]) => h('span', { class: 'tag' }, h('span', { class: 'tag-k' }, k), h('span', { class: 'tag-v' }, String(v)))))));
  }
  if (CONFIG.args && Array.isArray(record.args)) {
    let text;
    try {
      text = JSON.stringify(record.args, null, 2);
    } catch (e) {
      text = String(record.args);
    }
    parts.push(section(`Arguments (${record.args.length})`, h('pre', { class: 'code-block args' }, text)));
  }
  parts.push(section(`Logs (${(record.logs || []).length})`, renderLogs(record.logs || [])));
  parts.push(renderAnalytics(record));
  parts.push(renderRecent(record));
  body.replaceChildren(...parts.filter(Boolean));
  body.scrollTop = scroll;
  $('#detail-title').textContent = `Task ${shortId(record.task_id)} · ${record.func_name}`;
}

function renderActions(record) {
  const box = h('div', { class: 'actions' });
  if (CANCELLABLE.has(record.status)) {
    box.append(h('button', { type: 'button', class: 'btn btn-danger-ghost', id: 'detail-cancel', disabled: detail.busy !== null, onclick: () => cancelFromPanel(record.task_id) },
      detail.busy === 'cancel' ? 'Cancelling…' : 'Cancel task'));
    if (record.status === 'running') box.append(h('span', { class: 'note' }, 'The running attempt is told to stop (its AbortSignal fires) and no further attempt starts.'));
  }
  if (RETRYABLE.has(record.status)) {
    box.append(h('button', { type: 'button', class: 'btn btn-primary', id: 'detail-retry', disabled: detail.busy !== null, onclick: () => retryFromPanel(record.task_id) },
      detail.busy === 'retry' ? 'Retrying…' : 'Retry task'));
    if (record.status === 'interrupted') box.append(h('span', { class: 'note warn' }, 'Interrupted while running: part of its work may already have happened.'));
  }
  if (detail.retriedAs) {
    box.append(h('span', { class: 'note' }, 'Retried as ', h('button', { type: 'button', class: 'link mono', onclick: () => openDetail(detail.retriedAs) }, shortId(detail.retriedAs))));
  }
  return box.children.length ? box : null;
}

async function cancelFromPanel(id) {
  detail.busy = 'cancel';
  renderDetail();
  try {
    const { data } = await api(`${taskPath(id)}/cancel`, { method: 'POST' });
    toast(`Task ${shortId(id)} cancelled`);
    if (detail.id === id) detail.record = data.task;
    tableOnRecord(data.task);
  } catch (error) {
    toast(`Could not cancel: ${error.message}`, 'error');
  } finally {
    detail.busy = null;
    if (detail.id === id) renderDetail();
  }
}

async function retryFromPanel(id) {
  detail.busy = 'retry';
  renderDetail();
  try {
    const { data } = await api(`${taskPath(id)}/retry`, { method: 'POST' });
    if (detail.id === id) detail.retriedAs = data.task_id;
    toast(`Retry queued as ${shortId(data.task_id)}`, 'info', { label: 'Open', run: () => openDetail(data.task_id) });
    tableOnRecord(data.task);
  } catch (error) {
    toast(`Could not retry: ${error.message}`, 'error');
  } finally {
    detail.busy = null;
    if (detail.id === id) renderDetail();
  }
}

function renderProgress(record) {
  const pct = Math.max(0, Math.min(100, Math.round(Number(record.progress) * 100)));
  const bar = h('div', { class: 'progress-bar' });
  bar.style.width = `${pct}%`;
  return section('Progress',
    h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(pct), 'aria-label': 'Progress' }, bar),
    h('div', { class: 'progress-text' }, h('span', null, `${pct}%`), h('span', null, record.status === 'running' ? 'running' : record.status)));
}

function renderFields(record) {
  const dl = h('dl', { class: 'fields' });
  const row = (label, value) => dl.append(h('dt', null, label), h('dd', null, value));
  row('Function', h('span', null, h('span', { class: 'mono' }, record.func_name), ' · ',
    h('button', { type: 'button', class: 'link', onclick: () => { closeDetail(); setFilters({ func: record.func_name, status: '', since: '', search: '' }); } }, 'all runs')));
  row('Status', record.status);
  row('Created', timeEl(record.created_at, fullFormat));
  row('Started', timeEl(record.start_time, fullFormat));
  row('Ended', timeEl(record.end_time, fullFormat));
  row('Duration', record.status === 'running' && record.start_time ? `${fmtDuration((Date.now() - parseTime(record.start_time)) / 1000)} so far` : fmtDuration(record.duration));
  row('Retries used', String(record.retries_used));
  row('Priority', record.priority === null || record.priority === undefined ? '–' : String(record.priority));
  row('Source', record.source);
  row('Executor', record.executor || '–');
  row('Progress', record.progress === null || record.progress === undefined ? '–' : `${Math.round(record.progress * 100)}%`);
  return dl;
}

const LOG_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d) ([\s\S]*)$/;

function renderLogs(logs) {
  if (!logs.length) return h('p', { class: 'muted' }, 'No log lines.');
  const list = h('ol', { class: 'logs' });
  for (const line of logs) {
    const text = String(line);
    if (text.startsWith('--- ')) {
      list.append(h('li', { class: 'sep' }, text.replace(/^-+\s*|\s*-+$/g, '')));
      continue;
    }
    const m = LOG_LINE.exec(text);
    if (m) {
      const at = new Date(`${m[1]}Z`);
      list.append(h('li', null, h('time', { class: 'log-ts', datetime: at.toISOString(), title: `${fullFormat.format(at)} (${m[1]} UTC)` }, timeFormat.format(at)), h('span', { class: 'log-msg' }, m[2])));
    } else {
      list.append(h('li', null, h('span', { class: 'log-msg' }, text)));
    }
  }
  return list;
}

function stat(label, value, cls) {
  return h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, label), h('span', { class: `stat-value ${cls || ''}` }, value));
}

function renderAnalytics(record) {
  const f = functionInsight(record.func_name);
  if (!f) return section(`Function · ${record.func_name}`, h('p', { class: 'muted' }, overview.functions ? 'No statistics for this function.' : 'Loading…'));
  const last = f.last_failure;
  return section(`Function · ${record.func_name}`,
    h('div', { class: 'stats' },
      stat('Runs', fmtNumber(f.total)),
      stat('Success rate', fmtRate(f.success_rate), rateClass(f.success_rate)),
      stat('Failed', fmtNumber(f.failed + f.interrupted)),
      stat('Mean', fmtDuration(f.avg_duration_seconds)),
      stat('p50', fmtDuration(f.p50_duration_seconds)),
      stat('p95', fmtDuration(f.p95_duration_seconds))),
    last
      ? h('p', { class: 'small muted' }, 'Last failure ', relative(parseTime(last.at)), ': ',
        h('button', { type: 'button', class: 'link', onclick: () => openDetail(last.task_id) }, last.error ? firstLine(last.error) : shortId(last.task_id)))
      : null);
}

function renderRecent(record) {
  const runs = detail.recent;
  if (!runs) return section('Recent runs', h('p', { class: 'muted' }, 'Loading…'));
  if (!runs.length) return section('Recent runs', h('p', { class: 'muted' }, 'None.'));
  return section('Recent runs',
    h('ul', { class: 'runs' }, runs.map((r) =>
      h('li', { class: r.task_id === record.task_id ? 'current' : '' },
        h('button', { type: 'button', onclick: () => openDetail(r.task_id), 'aria-current': r.task_id === record.task_id ? 'true' : null },
          h('code', null, shortId(r.task_id)), statusBadge(r.status), h('span', { class: 'run-dur' }, fmtDuration(r.duration)), h('span', { class: 'run-time' }, timeEl(r.created_at)))))));
}
