// The throughput chart: GET /insights/throughput, and between two reports the tasks that
// finish, counted live into their minute when the stream carries every change (a view
// without filters); else the report is fetched again, at most every 15 s, after changes.
// Each minute the window moves on: fetched again when something changed, else moved here.

import type { ThroughputReport } from '../../task/task-insights';
import type { TaskRecord } from '../../task/task-record';
import { api, errorMessage } from './api';
import { $, clear, h, svg } from './dom';
import { fmtNumber, hourMinuteFormat, parseTime } from './format';
import { TERMINAL } from './task-state';
import { perFrame } from './util';

const chart = {
  report: null as ThroughputReport | null,
  /** Ids already counted into the chart from the stream. */
  counted: new Set<string>(),
  /** Something changed since the report was fetched. */
  changed: false,
  /** When the last fetch started (epoch ms), for the 15 s spacing. */
  at: 0,
  timer: 0,
};

type FinishedStatus = 'success' | 'failed' | 'interrupted' | 'cancelled';

export async function refreshThroughput(): Promise<void> {
  chart.at = Date.now();
  chart.changed = false;
  try {
    const { data } = await api<ThroughputReport>('/insights/throughput', { query: { minutes: '60' } });
    chart.report = data;
    chart.counted.clear();
    renderChart();
  } catch (error) {
    chart.changed = true;
    if (!chart.report) clear($('#chart')).append(h('div', { class: 'chart-empty' }, `Throughput unavailable: ${errorMessage(error)}`));
  }
}

/** Tasks changed that the stream did not all carry: the report again, at most every 15 s. */
export function throughputMayHaveChanged(): void {
  chart.changed = true;
  if (chart.timer) return;
  chart.timer = setTimeout(
    () => {
      chart.timer = 0;
      void refreshThroughput();
    },
    Math.max(0, chart.at + 15000 - Date.now()),
  );
}

/** Once a minute: the window moves on; only a change since the report needs a new one. */
export function throughputMinute(): void {
  const report = chart.report;
  const behind = report ? Math.floor((Date.now() - parseTime(report.buckets[report.buckets.length - 1].start)) / 60000) : Infinity;
  if (chart.changed || !report || behind >= report.buckets.length) {
    void refreshThroughput();
    return;
  }
  if (behind < 1) return;
  for (let i = 0; i < behind; i++) shiftWindow(report);
  renderChart();
}

/** A new, empty minute at the end of the window; the oldest one leaves it. */
function shiftWindow(report: ThroughputReport): void {
  const last = parseTime(report.buckets[report.buckets.length - 1].start);
  report.buckets.push({ start: new Date(last + 60000).toISOString(), success: 0, failed: 0, interrupted: 0, cancelled: 0 });
  report.buckets.shift();
  report.from = report.buckets[0].start;
}

/** A change from the stream; `complete`: the stream carries every change, so a finished task is counted into its minute. */
export function chartOnRecord(record: TaskRecord, complete: boolean): void {
  const report = chart.report;
  if (!TERMINAL.has(record.status)) return;
  chart.changed = true;
  if (!complete || !report || chart.counted.has(record.task_id)) return;
  const end = parseTime(record.end_time || record.created_at);
  if (!(end >= parseTime(report.to))) return;
  chart.counted.add(record.task_id);
  if (chart.counted.size > 50000) chart.counted.clear();
  const from = parseTime(report.from);
  let index = Math.floor((end - from) / 60000);
  while (index >= report.buckets.length) {
    // A new minute: the window moves on.
    shiftWindow(report);
    index--;
  }
  if (index < 0) return;
  report.buckets[index][record.status as FinishedStatus]++;
  renderChartSoon();
}

const renderChartSoon = perFrame(renderChart);

/** A top of scale made of 4 whole, round steps. */
function niceMax(value: number): number {
  const raw = Math.max(1, Math.ceil(value / 4));
  const exp = 10 ** Math.floor(Math.log10(raw));
  for (const step of [1, 2, 5, 10]) if (step * exp >= raw) return 4 * step * exp;
  return 40 * exp;
}

export function renderChart(): void {
  const box = $('#chart');
  const report = chart.report;
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
  const graph = svg('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' });
  for (let i = 0; i <= 4; i++) {
    const y = 4 + plotH - (plotH * i) / 4;
    graph.append(svg('line', { class: 'grid-line', x1: left, x2: width, y1: y, y2: y }));
    graph.append(svg('text', { class: 'axis', x: left - 6, y: y + 3.5, 'text-anchor': 'end' }, fmtNumber((max * i) / 4)));
  }
  const slot = plotW / buckets.length;
  const barW = Math.max(1, slot - Math.min(3, slot * 0.25));
  buckets.forEach((b, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    const col = svg('g', { class: 'col' });
    col.append(svg('rect', { class: 'hover', x: left + i * slot, y: 4, width: slot, height: plotH }));
    let y = 4 + plotH;
    const other = b.interrupted + b.cancelled;
    const stack: [number, string][] = [
      [b.success, 'bar-success'],
      [b.failed, 'bar-failed'],
      [other, 'bar-other'],
    ];
    for (const [value, cls] of stack) {
      if (!value) continue;
      const barH = (plotH * value) / max;
      y -= barH;
      col.append(svg('rect', { class: cls, x, y, width: barW, height: Math.max(1, barH), rx: Math.min(2, barW / 3) }));
    }
    const at = new Date(parseTime(b.start));
    col.append(svg('title', null, `${hourMinuteFormat.format(at)}: ${b.success} success, ${b.failed} failed, ${other} interrupted or cancelled`));
    graph.append(col);
    if (i % 15 === 0 || i === buckets.length - 1) {
      graph.append(
        svg(
          'text',
          { class: 'axis', x: left + i * slot + slot / 2, y: height - 4, 'text-anchor': i === buckets.length - 1 ? 'end' : 'middle' },
          i === buckets.length - 1 ? 'now' : hourMinuteFormat.format(at),
        ),
      );
    }
  });
  const total = totals.reduce((a, b) => a + b, 0);
  box.setAttribute('aria-label', `${fmtNumber(total)} tasks finished in the last hour`);
  clear(box).append(graph);
}
