// The per-function table of the overview (GET /insights/functions, refreshed at most
// every 15 s while tasks change) and the function pickers fed by it.

import type { FunctionInsight } from '../../task/task-insights';
import { api, errorMessage } from './api';
import { $, $$, clear, h } from './dom';
import { fmtDuration, fmtNumber, fmtRate, parseTime, plural, rateClass, relative } from './format';
import { page } from './page-actions';
import { view } from './view';

export const functions = {
  list: null as FunctionInsight[] | null,
  /** When the last refresh started (epoch ms); 0 lets the next one start at once. */
  at: 0,
  timer: 0,
};

const loadedListeners: (() => void)[] = [];

/** Called after each successful refresh. */
export function onFunctionsLoaded(listener: () => void): void {
  loadedListeners.push(listener);
}

export function scheduleFunctionsRefresh(): void {
  if (functions.timer) return;
  const wait = Math.max(0, functions.at + 15000 - Date.now());
  functions.timer = setTimeout(() => {
    functions.timer = 0;
    void refreshFunctions();
  }, wait);
}

/** The next scheduled refresh runs without waiting out the 15 s. */
export function refreshFunctionsSoon(): void {
  functions.at = 0;
  scheduleFunctionsRefresh();
}

export async function refreshFunctions(): Promise<void> {
  functions.at = Date.now();
  try {
    const { data } = await api<FunctionInsight[]>('/insights/functions');
    functions.list = data;
    renderFunctions();
    renderFunctionOptions();
    for (const listener of loadedListeners) listener();
  } catch (error) {
    if (!functions.list)
      clear($('#fn-body')).append(h('tr', { class: 'placeholder' }, h('td', { colspan: 6 }, `Unavailable: ${errorMessage(error)}`)));
  }
}

export function functionInsight(name: string): FunctionInsight | null {
  return (functions.list || []).find((f) => f.func_name === name) || null;
}

function renderFunctions(): void {
  const body = clear($('#fn-body'));
  // Registered functions that never ran are listed in the Registered tab only.
  const rows = (functions.list || []).filter((f) => f.total > 0).sort((a, b) => b.total - a.total || (a.func_name < b.func_name ? -1 : 1));
  $('#fn-note').textContent = rows.length ? plural(rows.length, 'function') : '';
  if (!rows.length) {
    body.append(h('tr', { class: 'placeholder' }, h('td', { colspan: 6 }, 'No task has run yet.')));
    return;
  }
  for (const f of rows) {
    const last = f.last_failure;
    body.append(
      h(
        'tr',
        null,
        h(
          'td',
          { class: 'mono' },
          h(
            'button',
            {
              type: 'button',
              class: 'link',
              title: `Show tasks of ${f.func_name}`,
              onclick: () => page.setFilters({ func: f.func_name, status: '' }),
            },
            f.func_name,
          ),
        ),
        h('td', { class: 'num' }, fmtNumber(f.total)),
        h('td', { class: `num ${rateClass(f.success_rate)}` }, fmtRate(f.success_rate)),
        h('td', { class: 'num' }, fmtDuration(f.p50_duration_seconds)),
        h('td', { class: 'num' }, fmtDuration(f.p95_duration_seconds)),
        h(
          'td',
          null,
          last
            ? h(
                'button',
                { type: 'button', class: 'link', title: last.error || 'Open the task', onclick: () => page.openDetail(last.task_id) },
                relative(parseTime(last.at)),
              )
            : h('span', { class: 'none' }, '–'),
        ),
      ),
    );
  }
}

/** The function pickers of the task filters and the dead-letter tab, keeping their choice. */
export function renderFunctionOptions(): void {
  const names = (functions.list || []).map((f) => f.func_name);
  $('#count-registered').textContent = String((functions.list || []).filter((f) => f.registered).length || '');
  const pickers: [HTMLSelectElement, string][] = [
    [$<HTMLSelectElement>('#f-func'), view.func],
    [$<HTMLSelectElement>('#dl-func'), view.dlFunc],
  ];
  for (const [select, current] of pickers) {
    const wanted = current && !names.includes(current) ? [...names, current] : names;
    const existing = $$<HTMLOptionElement>('option', select)
      .slice(1)
      .map((o) => o.value);
    if (existing.join('\u0000') !== wanted.join('\u0000')) {
      select.replaceChildren(select.options[0], ...wanted.map((name) => h('option', { value: name }, name)));
    }
    select.value = current;
  }
}
