import type { Timing } from './history';

const SEARCH_BUDGET_MS = 20;

/** The history's row of the `q` search (issue 18 item 1), shaped as run.ts's summary rows. */
export function searchRow(store: { id: string; name: string }, rows: number, search: Timing) {
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
