import type { Timing } from './history';

/** One history row of the summary table: the `q` search at the history's size (issue 18 item 1). */
export interface HistorySearchRow {
  id: string;
  what: string;
  ours: string;
  baseline: string;
  ratio: string;
  target: string;
  met: boolean;
}

const SEARCH_BUDGET_MS = 20;

export function searchRow(store: { id: string; name: string }, rows: number, search: Timing): HistorySearchRow {
  return {
    id: `${store.id}s`,
    what: `  ${store.name}: search \`q\` at ${rows.toLocaleString('en-US')} rows, p50`,
    ours: `${search.p50.toFixed(1)} ms (${search.total ?? '?'} found${search.exact === false ? '; WRONG: the database timed out, memory answered' : ''})`,
    baseline: `${SEARCH_BUDGET_MS} ms budget`,
    ratio: `${(search.p50 / SEARCH_BUDGET_MS).toFixed(2)}x of budget`,
    target: `<= ${SEARCH_BUDGET_MS} ms`,
    met: search.p50 <= SEARCH_BUDGET_MS && search.exact !== false,
  };
}
