// Overview: counters (from GET /metrics and the stream's `metrics` events), the
// throughput chart (GET /insights/throughput, then counted live) and the
// per-function table (GET /insights/functions, refreshed while tasks change).

const overview = {
  metrics: null,
  throughput: null,
  /** Ids already counted into the chart from the stream. */
  counted: new Set(),
  functions: null,
  functionsAt: 0,
  functionsTimer: 0,
};

function applyMetrics(m) {
  overview.metrics = m;
  for (const el of $$('#counters .counter-value')) {
    const key = el.dataset.key;
    if (key === 'success_rate') {
      el.textContent = fmtRate(m.success_rate);
      el.className = `counter-value ${rateClass(m.success_rate)}`;
    } else if (key.endsWith('_seconds')) {
      el.textContent = fmtDuration(m[key]);
    } else {
      el.textContent = fmtNumber(m[key]);
      if (key === 'failed') el.classList.toggle('nonzero', m.failed > 0);
    }
  }
  $('#count-dead').textContent = m.failed + m.interrupted > 0 ? fmtNumber(m.failed + m.interrupted) : '';
  scheduleFunctionsRefresh();
}

async function refreshMetrics() {
  try {
    const { data } = await api('/metrics');
    applyMetrics(data);
  } catch (error) {
    if (error.status !== 401) setLive(live.state, `Metrics failed: ${error.message}`);
  }
}

function renderCounterFilter() {
  for (const button of $$('#counters button.counter')) {
    button.setAttribute('aria-pressed', String(button.dataset.filter === view.status && (view.status !== '' || !hasFilters())));
  }
}

// ---- throughput chart ---------------------------------------------------------------------

async function refreshThroughput() {
  try {
    const { data } = await api('/insights/throughput', { query: { minutes: '60' } });
    overview.throughput = data;
    overview.counted.clear();
    renderChart();
  } catch (error) {
    if (!overview.throughput) clear($('#chart')).append(h('div', { class: 'chart-empty' }, `Throughput unavailable: ${error.message}`));
  }
}

/** Counts a task that finished after the report was made into its minute. */
function chartOnRecord(record) {
  const report = overview.throughput;
  if (!report || !TERMINAL.has(record.status) || overview.counted.has(record.task_id)) return;
  const end = parseTime(record.end_time || record.created_at);
  if (!(end >= parseTime(report.to))) return;
  overview.counted.add(record.task_id);
  if (overview.counted.size > 50000) overview.counted.clear();
  const from = parseTime(report.from);
  let index = Math.floor((end - from) / 60000);
  while (index >= report.buckets.length) {
    // A new minute: the window moves on.
    const last = parseTime(report.buckets[report.buckets.length - 1].start);
    report.buckets.push({ start: new Date(last + 60000).toISOString(), success: 0, failed: 0, interrupted: 0, cancelled: 0 });
    report.buckets.shift();
    report.from = report.buckets[0].start;
    index--;
  }
  if (index < 0) return;
  report.buckets[index][record.status]++;
  renderChartSoon();
}

const renderChartSoon = perFrame(renderChart);

/** A top of scale made of 4 whole, round steps. */
function niceMax(value) {
  const raw = Math.max(1, Math.ceil(value / 4));
  const exp = 10 ** Math.floor(Math.log10(raw));
  for (const step of [1, 2, 5, 10]) if (step * exp >= raw) return 4 * step * exp;
  return 40 * exp;
}

function renderChart() {
  const box = $('#chart');
  const report = overview.throughput;
  if (!report) return;
  const width = Math.max(240, box.clientWidth - 24);
  const height = Math.max(100, box.clientHeight - 14);
  const left = 34;
  const bottom = 18;
  const plotW = width - left;
  const plotH = height - bottom - 4;
  const buckets = report.buckets;
  const totals = buckets.map((b) => b.success + b.failed + b.interrupted + b.cancelled);
  const max = niceMax(Math.max(0, ...totals));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' });
  for (let i = 0; i <= 4; i++) {
    const y = 4 + plotH - (plotH * i) / 4;
    chart.append(svg('line', { class: 'grid-line', x1: left, x2: width, y1: y, y2: y }));
    chart.append(svg('text', { class: 'axis', x: left - 6, y: y + 3.5, 'text-anchor': 'end' }, fmtNumber((max * i) / 4)));
  }
  const slot = plotW / buckets.length;
  const barW = Math.max(1, slot - Math.min(3, slot * 0.25));
  buckets.forEach((b, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    const col = svg('g', { class: 'col' });
    col.append(svg('rect', { class: 'hover', x: left + i * slot, y: 4, width: slot, height: plotH }));
    let y = 4 + plotH;
    const other = b.interrupted + b.cancelled;
    for (const [value, cls] of [[b.success, 'bar-success'], [b.failed, 'bar-failed'], [other, 'bar-other']]) {
      if (!value) continue;
      const barH = (plotH * value) / max;
      y -= barH;
      col.append(svg('rect', { class: cls, x, y, width: barW, height: Math.max(1, barH), rx: Math.min(2, barW / 3) }));
    }
    const at = new Date(parseTime(b.start));
    col.append(svg('title', null, `${hourMinuteFormat.format(at)}: ${b.success} success, ${b.failed} failed, ${other} interrupted or cancelled`));
    chart.append(col);
    if (i % 15 === 0 || i === buckets.length - 1) {
      chart.append(svg('text', { class: 'axis', x: left + i * slot + slot / 2, y: height - 4, 'text-anchor': i === buckets.length - 1 ? 'end' : 'middle' },
        i === buckets.length - 1 ? 'now' : hourMinuteFormat.format(at)));
    }
  });
  const total = totals.reduce((a, b) => a + b, 0);
  box.setAttribute('aria-label', `${fmtNumber(total)} tasks finished in the last hour`);
  clear(box).append(chart);
}

// ---- per-function table -------------------------------------------------------------------

function scheduleFunctionsRefresh() {
  if (overview.functionsTimer) return;
  const wait = Math.max(0, overview.functionsAt + 15000 - Date.now());
  overview.functionsTimer = setTimeout(() => {
    overview.functionsTimer = 0;
    refreshFunctions();
  }, wait);
}

async function refreshFunctions() {
  overview.functionsAt = Date.now();
  try {
    const { data } = await api('/insights/functions');
    overview.functions = data;
    renderFunctions();
    renderFunctionOptions();
    detailFunctionsChanged();
  } catch (error) {
    if (!overview.functions) clear($('#fn-body')).append(h('tr', { class: 'placeholder' }, h('td', { colspan: 6 }, `Unavailable: ${error.message}`)));
  }
}

function functionInsight(name) {
  return (overview.functions || []).find((f) => f.func_name === name) || null;
}

function renderFunctions() {
  const body = clear($('#fn-body'));
  // Registered functions that never ran are listed in the Registered tab only.
  const rows = (overview.functions || []).filter((f) => f.total > 0).sort((a, b) => b.total - a.total || (a.func_name < b.func_name ? -1 : 1));
  $('#fn-note').textContent = rows.length ? plural(rows.length, 'function') : '';
  if (!rows.length) {
    body.append(h('tr', { class: 'placeholder' }, h('td', { colspan: 6 }, 'No task has run yet.')));
    return;
  }
  for (const f of rows) {
    const last = f.last_failure;
    body.append(
      h('tr', null,
        h('td', { class: 'mono' },
          h('button', { type: 'button', class: 'link', title: `Show tasks of ${f.func_name}`, onclick: () => setFilters({ func: f.func_name, status: '' }) }, f.func_name)),
        h('td', { class: 'num' }, fmtNumber(f.total)),
        h('td', { class: `num ${rateClass(f.success_rate)}` }, fmtRate(f.success_rate)),
        h('td', { class: 'num' }, fmtDuration(f.p50_duration_seconds)),
        h('td', { class: 'num' }, fmtDuration(f.p95_duration_seconds)),
        h('td', null, last
          ? h('button', { type: 'button', class: 'link', title: last.error || 'Open the task', onclick: () => openDetail(last.task_id) }, relative(parseTime(last.at)))
          : h('span', { class: 'none' }, '–')),
      ),
    );
  }
}

function renderFunctionOptions() {
  const names = (overview.functions || []).map((f) => f.func_name);
  $('#count-registered').textContent = String((overview.functions || []).filter((f) => f.registered).length || '');
  for (const [select, current] of [[$('#f-func'), view.func], [$('#dl-func'), view.dlFunc]]) {
    const wanted = current && !names.includes(current) ? [...names, current] : names;
    const existing = $$('option', select).slice(1).map((o) => o.value);
    if (existing.join('\u0000') !== wanted.join('\u0000')) {
      select.replaceChildren(select.options[0], ...wanted.map((name) => h('option', { value: name }, name)));
    }
    select.value = current;
  }
}
