// Live updates: the SSE stream with reconnection and back-off; polling every
// CONFIG.poll seconds while the stream is unavailable; pause / resume.

import type { TaskMetrics } from '../../task/task-metrics';
import type { TaskRecord } from '../../task/task-record';
import { CONFIG, doc } from './config';
import { $ } from './dom';
import { fmtNumber } from './format';

/** Tasks whose changes are kept while paused; past that, resuming reloads the view. */
const MAX_PAUSED = 2000;

export type LiveState = 'connecting' | 'live' | 'disconnected' | 'polling';

/** What the stream hands to the rest of the page. */
export interface LiveHandlers {
  /** A connection opened; `reconnected` when it is not the page's first. */
  opened(reconnected: boolean): void;
  /** Fetch everything again (a poll, or resuming after too many changes). */
  refresh(): void;
  /** A task changed (not called while paused: the change waits). */
  record(record: TaskRecord): void;
  /** New counters (not called while paused). */
  metrics(metrics: TaskMetrics): void;
}

export const live = {
  source: null as EventSource | null,
  state: 'connecting' as LiveState,
  failures: 0,
  retryTimer: 0,
  pollTimer: 0,
  polling: false,
  everOpened: false,
  /** The first connection opened before the first page of the table was in: load it again once it is. */
  catchUp: false,
  paused: false,
  /** Changes received while paused: latest record per task, in arrival order. */
  queue: new Map<string, TaskRecord>(),
  /** More changes arrived while paused than are kept: resuming fetches everything instead. */
  overflow: false,
  queuedMetrics: null as TaskMetrics | null,
  /** Full refreshes of the page's data started so far (see noteReload). */
  reloads: 0,
};

/** A full refresh has started: a `resync` hint of a connection opened before it is then moot. */
export function noteReload(): void {
  live.reloads++;
}

let handlers: LiveHandlers | null = null;

const LIVE_TEXT: Record<LiveState, [string, string]> = {
  connecting: ['Connecting', 'Connecting to the live stream'],
  live: ['Live', 'Changes appear as they happen'],
  disconnected: ['Disconnected', 'The live stream dropped; reconnecting'],
  polling: ['Polling', ''],
};

export function setLive(state: LiveState, detail?: string): void {
  live.state = state;
  const el = $('#live');
  el.dataset.state = state;
  const [label, title] = LIVE_TEXT[state];
  $('.live-label', el).textContent = label;
  el.title = detail || (state === 'polling' ? `The live stream is unavailable; refreshing every ${CONFIG.poll} s` : title);
}

/** Opens the stream (and keeps it open, or polls) for the page's lifetime. */
export function startLive(using: LiveHandlers): void {
  handlers = using;
  connectStream();
}

function connectStream(): void {
  clearTimeout(live.retryTimer);
  if (live.source) live.source.close();
  if (!live.polling) setLive(live.failures === 0 && !live.everOpened ? 'connecting' : 'disconnected');
  const source = new EventSource(`${CONFIG.base}/dashboard/stream`);
  live.source = source;
  let reloadsAtOpen = live.reloads;
  source.onopen = () => {
    if (live.source !== source) return;
    reloadsAtOpen = live.reloads;
    const reconnected = live.everOpened || live.failures > 0;
    live.failures = 0;
    live.everOpened = true;
    stopPolling();
    setLive('live');
    // A new connection starts with the live tasks only: what changed before it is
    // fetched once it is open (on the first connection, once the first page is in).
    handlers!.opened(reconnected);
  };
  source.onmessage = (event) => {
    let record: TaskRecord | null;
    try {
      record = JSON.parse(event.data);
    } catch {
      return;
    }
    if (record && typeof record.task_id === 'string') onRecord(record);
  };
  source.addEventListener('metrics', (event) => {
    try {
      onMetricsEvent(JSON.parse((event as MessageEvent<string>).data));
    } catch {
      /* ignore a malformed event */
    }
  });
  // The first batch was cut short (too many live tasks): fetch everything, unless a full
  // refresh started after this connection opened (a reconnection's) already covers what was left out.
  source.addEventListener('resync', () => {
    if (live.source !== source || live.reloads > reloadsAtOpen) return;
    if (live.paused) live.overflow = true;
    else handlers!.refresh();
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

function startPolling(): void {
  if (live.polling) {
    setLive('polling');
    return;
  }
  live.polling = true;
  setLive('polling');
  pollOnce();
  live.pollTimer = setInterval(pollOnce, CONFIG.poll * 1000);
}

function stopPolling(): void {
  if (!live.polling) return;
  live.polling = false;
  clearInterval(live.pollTimer);
}

export function pollOnce(): void {
  if (live.paused || doc.hidden) return;
  handlers!.refresh();
}

function onRecord(record: TaskRecord): void {
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
  handlers!.record(record);
}

function onMetricsEvent(metrics: TaskMetrics): void {
  if (live.paused) {
    live.queuedMetrics = metrics;
    return;
  }
  handlers!.metrics(metrics);
}

export function togglePause(): void {
  live.paused = !live.paused;
  if (!live.paused) {
    const queued = [...live.queue.values()];
    live.queue.clear();
    if (live.overflow) {
      live.overflow = false;
      handlers!.refresh();
    } else {
      for (const record of queued) handlers!.record(record);
    }
    if (live.queuedMetrics) handlers!.metrics(live.queuedMetrics);
    live.queuedMetrics = null;
    if (live.polling) pollOnce();
  }
  renderPauseButton();
}

export function renderPauseButton(): void {
  const button = $('#pause');
  button.setAttribute('aria-pressed', String(live.paused));
  const waiting = live.overflow ? `${fmtNumber(MAX_PAUSED)}+` : live.queue.size ? fmtNumber(live.queue.size) : '';
  button.textContent = live.paused ? (waiting ? `Resume · ${waiting} waiting` : 'Resume') : 'Pause';
  button.title = live.paused ? 'Apply the changes that arrived while paused' : 'Stop applying live changes';
}
