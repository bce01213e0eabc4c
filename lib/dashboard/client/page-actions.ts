// Calls that go from one view back up to the page as a whole: open a task, change the
// list's filters, fetch everything again. The views call them through this object
// instead of importing each other, which keeps the module graph free of circles;
// main.ts binds the real functions once at start-up.

import type { FilterChanges } from './view';

export interface PageActions {
  /** Opens the detail panel on a task; `opener` gets the focus back when it closes. */
  openDetail(id: string, opener?: HTMLElement): void;
  /** Changes filters (resetting page and selection), then reloads the table. */
  setFilters(changes: FilterChanges, replace?: boolean): void;
  /** Everything on screen, fetched again (after a reconnection, a bulk action, or a poll). */
  refreshAll(quiet?: boolean): Promise<unknown>;
}

function unbound(): never {
  throw new Error('dashboard: a page action was called before start-up bound it');
}

export const page: PageActions = { openDetail: unbound, setFilters: unbound, refreshAll: unbound };

export function bindPageActions(actions: PageActions): void {
  Object.assign(page, actions);
}
