// Start-up and the bits that tie the views together: the entry point of the bundle.

import { chartOnRecord, refreshThroughput, renderChart, throughputMayHaveChanged, throughputMinute } from './chart';
import { CONFIG, doc } from './config';
import { applyMetrics, refreshMetrics } from './counters';
import { deadOnRecord, bindDeadLetters, deadLettersMayHaveChanged, loadDeadLetters } from './dead-letters';
import { closeDetail, detail, detailFunctionsChanged, detailOnRecord, loadDetail, openDetail } from './detail';
import { $ } from './dom';
import { setFilters, syncFilterControls } from './filters';
import { onFunctionsLoaded, refreshFunctions, refreshFunctionsSoon, scheduleFunctionsRefresh } from './functions';
import { loadSchedules } from './info-tabs';
import { loadInstances } from './instances';
import { followView, live, noteReload, renderPauseButton, startLive, togglePause } from './live';
import { bindPageActions } from './page-actions';
import { loadPermissions } from './permissions';
import { clearSelection } from './selection';
import { loadTasks, tableOnRecord } from './table';
import { bindTable } from './table-bindings';
import { table } from './table-state';
import { bindTabs, switchTab } from './tabs';
import { renderThemeButton, toggleTheme, watchSystemTheme } from './theme';
import { TERMINAL } from './task-state';
import { perFrame } from './util';
import { View, hasFilters, readView, view } from './view';

let refreshing: Promise<unknown> | null = null;

/** Everything on screen, fetched again (after a reconnection, a bulk action, or a poll). */
function refreshAll(quiet?: boolean): Promise<unknown> {
  if (refreshing) return refreshing;
  noteReload();
  const jobs: Promise<unknown>[] = [loadTasks(quiet), refreshMetrics(), refreshThroughput()];
  if (detail.id) jobs.push(loadDetail());
  if (view.tab === 'dead') jobs.push(loadDeadLetters());
  else if (view.tab === 'schedules') jobs.push(loadSchedules());
  else if (view.tab === 'instances') jobs.push(loadInstances());
  refreshFunctionsSoon();
  refreshing = Promise.all(jobs).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

let resyncing: Promise<unknown> | null = null;
let resyncAgain = false;

/**
 * The server withheld changes of this view (a burst): the table, and the detail task
 * while it can still change, read again; one at a time, and one more after it when
 * another hint came meanwhile. The counters need nothing: `metrics` events still come.
 */
function resyncView(): void {
  if (resyncing) {
    resyncAgain = true;
    return;
  }
  const jobs: Promise<unknown>[] = [loadTasks(true)];
  if (detail.id && !(detail.record && TERMINAL.has(detail.record.status))) jobs.push(loadDetail());
  deadLettersMayHaveChanged();
  throughputMayHaveChanged();
  resyncing = Promise.all(jobs).finally(() => {
    resyncing = null;
    if (resyncAgain) {
      resyncAgain = false;
      resyncView();
    }
  });
}

const LIST_KEYS: (keyof View)[] = ['status', 'func', 'instance', 'since', 'search', 'sort', 'page', 'size'];

function onPopState(): void {
  const before = Object.assign({}, view);
  readView();
  syncFilterControls();
  if (before.tab !== view.tab) switchTab(view.tab, true);
  const listChanged = LIST_KEYS.some((k) => before[k] !== view[k]);
  if (listChanged) {
    clearSelection();
    void loadTasks();
  }
  if (view.tab === 'dead' && (before.dlSince !== view.dlSince || before.dlFunc !== view.dlFunc)) void loadDeadLetters();
  if (view.task && view.task !== detail.id) void openDetail(view.task);
  else if (!view.task && detail.id) closeDetail(true);
  followView();
}

function start(): void {
  bindPageActions({ openDetail: (id, opener) => void openDetail(id, opener), setFilters, refreshAll });
  onFunctionsLoaded(detailFunctionsChanged);
  readView();
  if (CONFIG.auth) {
    $('#signout').hidden = false;
    $('#tab-audit').hidden = false;
  }
  renderThemeButton();
  renderPauseButton();
  syncFilterControls();
  bindTable();
  bindTabs();
  bindDeadLetters();
  $('#pause').addEventListener('click', togglePause);
  $('#theme-toggle').addEventListener('click', toggleTheme);
  $('#detail-close').addEventListener('click', () => closeDetail());
  doc.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || $<HTMLDialogElement>('#confirm').open) return;
    if (!$('#detail').hidden) {
      event.preventDefault();
      closeDetail();
    }
  });
  window.addEventListener('popstate', onPopState);
  watchSystemTheme();
  if (window.ResizeObserver) new ResizeObserver(perFrame(renderChart)).observe($('#chart'));

  // The table first (it is what "interactive" waits for, with the role's actions), the rest beside it.
  const allowed = loadPermissions();
  const first = loadTasks();
  void refreshMetrics();
  void refreshThroughput();
  void refreshFunctions();
  void loadInstances();
  if (view.tab !== 'tasks') switchTab(view.tab, true);
  if (view.task) void openDetail(view.task);
  // A panel drawn before the role was known shows its actions once it is.
  void allowed.then(() => (detail.id ? loadDetail() : undefined));
  void Promise.all([first, allowed]).then(() => {
    performance.mark('tf-interactive');
    doc.body.dataset.ready = '1';
  });
  startLive({
    opened(because, filtersChanged) {
      if (because === 'reconnected') void refreshAll(true);
      else if (because === 'view') {
        // The stream it replaced covered the view it had: only what the new view adds is read.
        if (filtersChanged) void loadTasks(true);
        if (detail.id && !(detail.record && TERMINAL.has(detail.record.status))) void loadDetail();
      } else if (table.loadedOnce) void loadTasks(true);
      else live.catchUp = true;
    },
    refresh: () => void refreshAll(true),
    resync: resyncView,
    record(record) {
      tableOnRecord(record);
      detailOnRecord(record);
      chartOnRecord(record, !hasFilters());
      deadOnRecord(record);
    },
    metrics(metrics) {
      applyMetrics(metrics);
      scheduleFunctionsRefresh();
      // A filtered view does not carry every finished task: the chart and the dead letters read theirs.
      if (hasFilters()) {
        throughputMayHaveChanged();
        deadLettersMayHaveChanged();
      }
    },
  });
  // Heartbeats move on without task changes: the instance list is read again while it is shown.
  setInterval(() => {
    if (!doc.hidden && view.tab === 'instances') void loadInstances();
  }, 5000);
  // The chart's window moves on every minute (fetched again only when something changed).
  setInterval(() => {
    if (!doc.hidden) throughputMinute();
  }, 60000);
}

start();
