/**
 * Scenario 5's clients (a process of their own, so the server's CPU and RSS are its
 * own), both kinds in the same run:
 * - `plain` SSE connections without parameters, as a program reading every change:
 *   lag per task event (see changeOf); done when it has seen every burst task succeed;
 * - `dashboards` pages (see DashboardClient): their view streams and REST reads; done
 *   when the page shows the end state.
 * Whatever is not done `deadlineMs` after the burst starts counts as lost.
 */
import { fromParent, median, percentile, scenarioMain, wallMs } from '../common';
import { DashboardClient } from './sse-dashboard-client';
import { changeOf, openStream, SseEvent } from './sse-stream';

export interface SseClientsParams {
  url: string;
  plain: number;
  dashboards: number;
  tasks: number;
  /** Rows of a dashboard's page. */
  pageSize: number;
  deadlineMs: number;
}

export interface SseKindResult {
  clients: number;
  eventsPerClientMin: number;
  eventsPerClientMedian: number;
  eventsPerClientMax: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  /** Every client done (every success seen / the page settled), from the burst's start. */
  allSeenMs: number;
  bytesPerClient: number;
  /** Plain: burst tasks whose success some client never saw; dashboards: rows missing or unlike the server's end state. */
  lost: number;
  /** Dashboards only: resync hints and REST reads of the page, per client (median). */
  resyncsPerClient: number;
  readsPerClient: number;
}

export interface SseClientsResult {
  plain: SseKindResult;
  dashboard: SseKindResult;
}

const TASK_ID = /"task_id":"([^"]+)"/;

class PlainClient {
  events = 0;
  bytes = 0;
  doneAt: number | null = null;
  readonly finished = new Set<string>();
  constructor(
    private readonly lags: number[],
    private readonly tasks: number,
    private readonly onDone: () => void,
  ) {}

  open(url: string): Promise<void> {
    return openStream(
      url,
      (event, at) => this.onEvent(event, at),
      (n) => (this.bytes += n),
    );
  }

  private onEvent(event: SseEvent, at: number): void {
    if (event.event !== undefined || event.data === undefined) return;
    const change = changeOf(event.data);
    if (!change) return;
    this.events++;
    this.lags.push(at - change.at);
    if (change.status !== 'success') return;
    const id = TASK_ID.exec(event.data)?.[1];
    if (!id || this.finished.has(id)) return;
    this.finished.add(id);
    if (this.finished.size === this.tasks && this.doneAt === null) {
      this.doneAt = wallMs();
      this.onDone();
    }
  }
}

function summary(
  clients: { events: number; bytes: number }[],
  lags: number[],
  doneAt: (number | null)[],
  t0: number,
  lost: number,
  extra: Partial<SseKindResult> = {},
): SseKindResult {
  const events = clients.map((c) => c.events);
  return {
    clients: clients.length,
    eventsPerClientMin: Math.min(...events),
    eventsPerClientMedian: median(events),
    eventsPerClientMax: Math.max(...events),
    lagP50Ms: percentile(lags, 0.5),
    lagP99Ms: percentile(lags, 0.99),
    lagMaxMs: percentile(lags, 1),
    allSeenMs: doneAt.some((at) => at === null) ? NaN : Math.max(...doneAt.map((at) => at! - t0)),
    bytesPerClient: median(clients.map((c) => c.bytes)),
    lost,
    resyncsPerClient: NaN,
    readsPerClient: NaN,
    ...extra,
  };
}

scenarioMain<SseClientsParams, SseClientsResult>(async (p) => {
  const base = p.url.replace(/\/dashboard\/stream$/, '');
  const plainLags: number[] = [];
  const pageLags: number[] = [];
  let remaining = p.plain + p.dashboards;
  let allDone!: () => void;
  const done = new Promise<void>((resolve) => (allDone = resolve));
  const one = () => --remaining === 0 && allDone();
  const plain = Array.from({ length: p.plain }, () => new PlainClient(plainLags, p.tasks, one));
  const pages = Array.from({ length: p.dashboards }, () => new DashboardClient(base, p.pageSize, pageLags, one));
  await Promise.all([...plain.map((c) => c.open(p.url)), ...pages.map((c) => c.open())]);
  // The pages' start-up reads are not the burst's.
  pageLags.length = 0;
  process.send!({ connected: true });
  const { at } = await fromParent<{ bursting?: boolean; at?: number }>((m) => m.bursting === true);
  const t0 = at!;
  for (const page of pages) page.burst(t0);
  let deadline: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise<void>((resolve) => (deadline = setTimeout(resolve, p.deadlineMs)))]);
  clearTimeout(deadline);
  const truth = new Map(((await pages[0]?.list(500)) ?? []).map((r) => [r.task_id, r.status]));
  const lostPlain = plain.reduce((n, c) => n + (p.tasks - c.finished.size), 0);
  const lostPages = pages.reduce((n, c) => n + c.lost(truth), 0);
  for (const page of pages) page.close();
  return {
    plain: summary(
      plain,
      plainLags,
      plain.map((c) => c.doneAt),
      t0,
      lostPlain,
    ),
    dashboard: summary(
      pages,
      pageLags,
      pages.map((c) => c.settledAt),
      t0,
      lostPages,
      {
        resyncsPerClient: median(pages.map((c) => c.resyncs)),
        readsPerClient: median(pages.map((c) => c.reads)),
      },
    ),
  };
});
