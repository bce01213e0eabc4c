// Live updates: the page's view stream (only the changes of what the page shows) with
// reconnection and back-off; polling every CONFIG.poll seconds while the stream is
// unavailable; pause / resume; asleep while the tab is hidden.

import type { TaskMetrics } from '../../task/task-metrics';
import type { TaskRecord } from '../../task/task-record';
import { CONFIG, doc } from './config';
import { $ } from './dom';
import { fmtNumber } from './format';
import { streamQuery } from './view';

/** Tasks whose changes are kept while paused; past that, resuming reloads the view. */
const MAX_PAUSED = 2000;
/** A tab hidden this long lets its stream go (and polls no more) until it is shown again. */
const HIDDEN_GRACE_MS = 10_000;

export type LiveState = 'connecting' | 'live' | 'disconnected' | 'polling' | 'asleep';

/** Why a connection opened: the page's first, one after a failure or a sleep, or one for a new view. */
export type OpenedBecause = 'first' | 'reconnected' | 'view';

/** What the stream hands to the rest of the page. */
export interface LiveHandlers {
  /**
   * A connection opened. After a failure or a sleep, what changed meanwhile is unknown;
   * for a new view (`filtersChanged`: the table's filters, else only the detail task)
   * the connection it replaced stayed open until now.
   */
  opened(because: OpenedBecause, filtersChanged: boolean): void;
  /** Fetch everything again (a poll, or resuming after too many changes). */
  refresh(): void;
  /** The server withheld changes of this view (a burst): read the view again through REST. */
  resync(): void;
  /** A task changed (not called while paused: the change waits). */
  record(record: TaskRecord): void;
  /** New counters (not called while paused). */
  metrics(metrics: TaskMetrics): void;
}

export const live = {
  source: null as EventSource | null,
  /** The stream a new view's is replacing: open until that one is. */
  replaced: null as EventSource | null,
  /** Query of the newest connection. */
  query: '',
  state: 'connecting' as LiveState,
  failures: 0,
  retryTimer: 0,
  pollTimer: 0,
  hiddenTimer: 0,
  polling: false,
  asleep: false,
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
  asleep: ['Asleep', 'The tab is hidden: live updates resume when it is shown'],
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
  doc.addEventListener('visibilitychange', onVisibility);
  connectStream();
}

/**
 * The view changed (filters, detail panel): a stream for the new one, the current one
 * kept until it opens so that no change falls between the two. Without an open stream
 * there is nothing to do: the next connection asks for the view as it is then.
 */
export function followView(): void {
  if (!handlers || live.asleep || streamQuery() === live.query) return;
  if (live.state !== 'live' || !live.source) {
    if (live.source) connectStream();
    return;
  }
  const filtersChanged = live.query.replace(/&?task=[^&]*/, '') !== streamQuery().replace(/&?task=[^&]*/, '');
  live.replaced?.close();
  live.replaced = live.source;
  open('view', filtersChanged);
}

/** A new connection, the others closed (start, after a failure, on waking up). */
function connectStream(): void {
  clearTimeout(live.retryTimer);
  live.replaced?.close();
  live.replaced = null;
  live.source?.close();
  if (!live.polling) setLive(live.failures === 0 && !live.everOpened ? 'connecting' : 'disconnected');
  open(live.everOpened || live.failures > 0 ? 'reconnected' : 'first', false);
}

function open(because: OpenedBecause, filtersChanged: boolean): void {
  live.query = streamQuery();
  const source = new EventSource(`${CONFIG.base}/dashboard/stream?${live.query}`);
  live.source = source;
  let reloadsAtOpen = live.reloads;
  const current = () => source === live.source || source === live.replaced;
  source.onopen = () => {
    if (live.source !== source) return;
    reloadsAtOpen = live.reloads;
    live.replaced?.close();
    live.replaced = null;
    live.failures = 0;
    live.everOpened = true;
    stopPolling();
    setLive('live');
    handlers!.opened(because, filtersChanged);
  };
  source.onmessage = (event) => {
    if (!current()) return;
    let record: TaskRecord | null;
    try {
      record = JSON.parse(event.data);
    } catch {
      return;
    }
    if (record && typeof record.task_id === 'string') onRecord(record);
  };
  source.addEventListener('metrics', (event) => {
    if (!current()) return;
    try {
      onMetricsEvent(JSON.parse((event as MessageEvent<string>).data));
    } catch {
      /* ignore a malformed event */
    }
  });
  // Changes were left out: of the first batch (too many live tasks; moot when a full refresh
  // started after this connection opened, as a reconnection's does) or of a burst.
  source.addEventListener('resync', (event) => {
    if (!current()) return;
    let hint: { sent?: unknown } = {};
    try {
      hint = JSON.parse((event as MessageEvent<string>).data);
    } catch {
      /* a hint without details is still a hint */
    }
    const ofFirstBatch = typeof hint.sent === 'number' && hint.sent > 0;
    if (ofFirstBatch && live.reloads > reloadsAtOpen) return;
    beat();
    if (live.paused) live.overflow = true;
    else handlers!.resync();
  });
  source.onerror = () => {
    if (source === live.replaced) {
      source.close();
      live.replaced = null;
      return;
    }
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

/** Hidden for a while: the stream goes (the server sends this page nothing); shown again: a new one, and a refresh. */
function onVisibility(): void {
  clearTimeout(live.hiddenTimer);
  if (doc.hidden) {
    live.hiddenTimer = setTimeout(fallAsleep, HIDDEN_GRACE_MS);
    return;
  }
  if (live.asleep) {
    live.asleep = false;
    connectStream();
  } else if (live.polling) {
    pollOnce();
  }
}

function fallAsleep(): void {
  live.asleep = true;
  clearTimeout(live.retryTimer);
  stopPolling();
  live.replaced?.close();
  live.source?.close();
  live.replaced = null;
  live.source = null;
  setLive('asleep');
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

/** The dot beats once when something arrives (an endless animation kept an idle page busy). */
function beat(): void {
  const dot = $('#live .dot');
  if (dot.classList.contains('beat')) return;
  dot.classList.add('beat');
  dot.addEventListener('animationend', () => dot.classList.remove('beat'), { once: true });
}

function onRecord(record: TaskRecord): void {
  beat();
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
