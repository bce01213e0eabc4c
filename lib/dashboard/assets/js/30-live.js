// Live updates: the SSE stream of SPEC §5 with reconnection and back-off; polling
// every CONFIG.poll seconds while the stream is unavailable; pause / resume.

/** Tasks whose changes are kept while paused; past that, resuming reloads the view. */
const MAX_PAUSED = 2000;

const live = {
  source: null,
  state: 'connecting',
  failures: 0,
  retryTimer: 0,
  pollTimer: 0,
  polling: false,
  everOpened: false,
  paused: false,
  /** Changes received while paused: latest record per task, in arrival order. */
  queue: new Map(),
  /** More changes arrived while paused than are kept: resuming fetches everything instead. */
  overflow: false,
  queuedMetrics: null,
};

const LIVE_TEXT = {
  connecting: ['Connecting', 'Connecting to the live stream'],
  live: ['Live', 'Changes appear as they happen'],
  disconnected: ['Disconnected', 'The live stream dropped; reconnecting'],
  polling: ['Polling', ''],
};

function setLive(state, detail) {
  live.state = state;
  const el = $('#live');
  el.dataset.state = state;
  const [label, title] = LIVE_TEXT[state];
  $('.live-label', el).textContent = label;
  el.title = detail || (state === 'polling' ? `The live stream is unavailable; refreshing every ${CONFIG.poll} s` : title);
}

function connectStream() {
  clearTimeout(live.retryTimer);
  if (live.source) live.source.close();
  if (!live.polling) setLive(live.failures === 0 && !live.everOpened ? 'connecting' : 'disconnected');
  const source = new EventSource(`${CONFIG.base}/dashboard/stream`);
  live.source = source;
  source.onopen = () => {
    if (live.source !== source) return;
    const reconnected = live.everOpened || live.failures > 0;
    live.failures = 0;
    live.everOpened = true;
    stopPolling();
    setLive('live');
    // A new connection starts with the live tasks only: what changed before it is
    // fetched once it is open (on the first connection, once the first page is in).
    if (reconnected) refreshAll(true);
    else if (table.loadedOnce) loadTasks(true);
    else live.catchUp = true;
  };
  source.onmessage = (event) => {
    let record;
    try {
      record = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    if (record && typeof record.task_id === 'string') onRecord(record);
  };
  source.addEventListener('metrics', (event) => {
    try {
      onMetricsEvent(JSON.parse(event.data));
    } catch (e) {
      /* ignore a malformed event */
    }
  });
  source.onerror = () => {
    if (live.source !== source) return;
    // Reconnection is ours (with back-off), not the browser's fixed delay.
    source.close();
    live.source = null;
    live.failures++;
    if (live.failures >= 2) startPolling();
    else setLive('disconnected');
    const delay = Math.min(30000, 1000 * 2 ** (live.failures - 1)) * (0.75 + Math.random() * 0.5);
    live.retryTimer = setTimeout(connectStream, delay);
  };
}

function startPolling() {
  if (live.polling) {
    setLive('polling');
    return;
  }
  live.polling = true;
  setLive('polling');
  pollOnce();
  live.pollTimer = setInterval(pollOnce, CONFIG.poll * 1000);
}

function stopPolling() {
  if (!live.polling) return;
  live.polling = false;
  clearInterval(live.pollTimer);
}

function pollOnce() {
  if (live.paused || doc.hidden) return;
  refreshAll(true);
}

function onRecord(record) {
  if (live.paused) {
    if (!live.overflow) {
      live.queue.delete(record.task_id);
      live.queue.set(record.task_id, record);
      if (live.queue.size > MAX_PAUSED) {
        live.queue.clear();
        live.overflow = true;
      }
    }
    renderPauseButton();
    return;
  }
  applyRecord(record);
}

function applyRecord(record) {
  tableOnRecord(record);
  detailOnRecord(record);
  chartOnRecord(record);
  deadOnRecord(record);
}

function onMetricsEvent(metrics) {
  if (live.paused) {
    live.queuedMetrics = metrics;
    return;
  }
  applyMetrics(metrics);
}

function togglePause() {
  live.paused = !live.paused;
  if (!live.paused) {
    const queued = [...live.queue.values()];
    live.queue.clear();
    if (live.overflow) {
      live.overflow = false;
      refreshAll(true);
    } else {
      for (const record of queued) applyRecord(record);
    }
    if (live.queuedMetrics) applyMetrics(live.queuedMetrics);
    live.queuedMetrics = null;
    if (live.polling) pollOnce();
  }
  renderPauseButton();
}

function renderPauseButton() {
  const button = $('#pause');
  button.setAttribute('aria-pressed', String(live.paused));
  const waiting = live.overflow ? `${fmtNumber(MAX_PAUSED)}+` : live.queue.size ? fmtNumber(live.queue.size) : '';
  button.textContent = live.paused ? (waiting ? `Resume · ${waiting} waiting` : 'Resume') : 'Pause';
  button.title = live.paused ? 'Apply the changes that arrived while paused' : 'Stop applying live changes';
}
