// Start-up and the bits that tie the views together: the entry point of the bundle.

import { chartOnRecord, refreshThroughput, renderChart } from './chart';
import { CONFIG, doc } from './config';
import { applyMetrics, refreshMetrics } from './counters';
import { deadOnRecord, bindDeadLetters, loadDeadLetters } from './dead-letters';
import { closeDetail, detail, detailFunctionsChanged, detailOnRecord, loadDetail, openDetail } from './detail';
import { $ } from './dom';
import { setFilters, syncFilterControls } from './filters';
import { onFunctionsLoaded, refreshFunctions, refreshFunctionsSoon } from './functions';
import { loadSchedules } from './info-tabs';
import { loadInstances } from './instances';
import { live, noteReload, pollOnce, renderPauseButton, startLive, togglePause } from './live';
import { bindPageActions } from './page-actions';
import { loadPermissions } from './permissions';
import { clearSelection } from './selection';
import { loadTasks, tableOnRecord } from './table';
import { bindTable } from './table-bindings';
import { table } from './table-state';
import { bindTabs, switchTab } from './tabs';
import { renderThemeButton, toggleTheme, watchSystemTheme } from './theme';
import { perFrame } from './util';
import { View, readView, view } from './view';

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
  doc.addEventListener('visibilitychange', () => {
    if (!doc.hidden && live.polling) pollOnce();
  });

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
    opened(reconnected) {
      if (reconnected) void refreshAll(true);
      else if (table.loadedOnce) void loadTasks(true);
      else live.catchUp = true;
    },
    refresh: () => void refreshAll(true),
    record(record) {
      tableOnRecord(record);
      detailOnRecord(record);
      chartOnRecord(record);
      deadOnRecord(record);
    },
    metrics: applyMetrics,
  });
  // Heartbeats move on without task changes: the instance list is read again while it is shown.
  setInterval(() => {
    if (!doc.hidden && view.tab === 'instances') void loadInstances();
  }, 5000);
  // The chart's window moves on every minute even when nothing happens.
  setInterval(() => {
    if (!doc.hidden) void refreshThroughput();
  }, 60000);
}

start();
