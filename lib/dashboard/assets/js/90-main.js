// Start-up and the bits that tie the views together.

let refreshing = null;

/** Everything on screen, fetched again (after a reconnection, a bulk action, or a poll). */
function refreshAll(quiet) {
  if (refreshing) return refreshing;
  const jobs = [loadTasks(quiet), refreshMetrics(), refreshThroughput()];
  if (detail.id) jobs.push(loadDetail());
  if (view.tab === 'dead') jobs.push(loadDeadLetters());
  else if (view.tab === 'schedules') jobs.push(loadSchedules());
  overview.functionsAt = 0;
  scheduleFunctionsRefresh();
  refreshing = Promise.all(jobs).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

function currentTheme() {
  const chosen = doc.documentElement.dataset.theme;
  if (chosen === 'light' || chosen === 'dark') return chosen;
  return window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

function renderThemeButton() {
  const next = currentTheme() === 'dark' ? 'light' : 'dark';
  const button = $('#theme-toggle');
  button.setAttribute('aria-label', `Switch to ${next} theme`);
  button.title = `Switch to ${next} theme`;
}

function toggleTheme() {
  const next = currentTheme() === 'dark' ? 'light' : 'dark';
  doc.documentElement.dataset.theme = next;
  store.set('taskflow-theme', next);
  renderThemeButton();
  renderChart();
}

function onPopState() {
  const before = Object.assign({}, view);
  readView();
  syncFilterControls();
  if (before.tab !== view.tab) switchTab(view.tab, true);
  const listChanged = ['status', 'func', 'since', 'search', 'sort', 'page', 'size'].some((k) => before[k] !== view[k]);
  if (listChanged) {
    clearSelection();
    loadTasks();
  }
  if (view.tab === 'dead' && (before.dlSince !== view.dlSince || before.dlFunc !== view.dlFunc)) loadDeadLetters();
  if (view.task && view.task !== detail.id) openDetail(view.task);
  else if (!view.task && detail.id) closeDetail(true);
}

function start() {
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
    if (event.key !== 'Escape' || $('#confirm').open) return;
    if (!$('#detail').hidden) {
      event.preventDefault();
      closeDetail();
    }
  });
  window.addEventListener('popstate', onPopState);
  if (window.matchMedia) {
    const media = window.matchMedia('(prefers-color-scheme: dark)');
    if (media.addEventListener) media.addEventListener('change', () => { renderThemeButton(); renderChart(); });
  }
  if (window.ResizeObserver) new ResizeObserver(perFrame(renderChart)).observe($('#chart'));
  doc.addEventListener('visibilitychange', () => {
    if (!doc.hidden && live.polling) pollOnce();
  });

  // The table first (it is what "interactive" waits for), the rest beside it.
  const first = loadTasks();
  refreshMetrics();
  refreshThroughput();
  refreshFunctions();
  if (view.tab !== 'tasks') switchTab(view.tab, true);
  if (view.task) openDetail(view.task);
  first.then(() => {
    performance.mark('tf-interactive');
    doc.body.dataset.ready = '1';
  });
  connectStream();
  // The chart's window moves on every minute even when nothing happens.
  setInterval(() => {
    if (!doc.hidden) refreshThroughput();
  }, 60000);
}

start();
