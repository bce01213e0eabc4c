/**
 * Scenario 5's clients (a process of their own, so the server's CPU and RSS are its
 * own): `clients` SSE connections. For every task event, the delivery lag is the
 * arrival time here minus the server's timestamp of the change that produced the
 * state the event carries: `created_at` for pending, `start_time` for running,
 * `end_time` for a finished task (set by the engine at the change, ms precision; the
 * same machine clock). Done when every client has seen every burst task finish.
 */
import http from 'node:http';
import { fromParent, median, percentile, scenarioMain, wallMs } from '../common';

export interface SseClientsParams {
  url: string;
  clients: number;
  tasks: number;
}

export interface SseClientsResult {
  eventsPerClientMin: number;
  eventsPerClientMedian: number;
  eventsPerClientMax: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  /** Lag of the events that carry a task's success only. */
  successLagP99Ms: number;
  allSeenMs: number;
  bytesPerClient: number;
}

const STATUS = /"status":"(\w+)"/;
const CREATED = /"created_at":"([^"]+)"/;
const STARTED = /"start_time":"([^"]+)"/;
const ENDED = /"end_time":"([^"]+)"/;
const TASK_ID = /"task_id":"([^"]+)"/;

class Client {
  events = 0;
  bytes = 0;
  finished = new Set<string>();
  private buffer = '';
  constructor(
    private readonly lags: number[],
    private readonly successLags: number[],
    private readonly tasks: number,
    private readonly onDone: () => void,
  ) {}

  open(url: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = http.get(url, { headers: { Accept: 'text/event-stream' }, agent: false }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => this.feed(chunk));
        resolve();
      });
      req.on('error', reject);
    });
  }

  private feed(chunk: string): void {
    const at = wallMs();
    this.bytes += chunk.length;
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      if (block.startsWith(':') || block.includes('\nevent:') || block.startsWith('event:')) continue;
      const dataAt = block.indexOf('data: ');
      if (dataAt < 0) continue;
      const data = block.slice(dataAt + 6);
      const status = STATUS.exec(data)?.[1];
      if (!status) continue;
      this.events++;
      const stamp = status === 'pending' ? CREATED.exec(data) : status === 'running' ? STARTED.exec(data) : ENDED.exec(data);
      if (stamp) {
        const lag = at - Date.parse(stamp[1]);
        this.lags.push(lag);
        if (status === 'success') this.successLags.push(lag);
      }
      if (status === 'success') {
        const id = TASK_ID.exec(data)?.[1];
        if (id && !this.finished.has(id)) {
          this.finished.add(id);
          if (this.finished.size === this.tasks) this.onDone();
        }
      }
    }
  }
}

scenarioMain<SseClientsParams, SseClientsResult>(async (p) => {
  const lags: number[] = [];
  const successLags: number[] = [];
  let remaining = p.clients;
  let allDone!: () => void;
  const done = new Promise<void>((resolve) => (allDone = resolve));
  const clients = Array.from({ length: p.clients }, () => new Client(lags, successLags, p.tasks, () => --remaining === 0 && allDone()));
  await Promise.all(clients.map((c) => c.open(p.url)));
  process.send!({ connected: true });
  await fromParent<{ bursting?: boolean }>((m) => m.bursting === true);
  const t0 = wallMs();
  await done;
  const allSeenMs = wallMs() - t0;
  const perClient = clients.map((c) => c.events);
  return {
    eventsPerClientMin: Math.min(...perClient),
    eventsPerClientMedian: median(perClient),
    eventsPerClientMax: Math.max(...perClient),
    lagP50Ms: percentile(lags, 0.5),
    lagP99Ms: percentile(lags, 0.99),
    lagMaxMs: percentile(lags, 1),
    successLagP99Ms: percentile(successLags, 0.99),
    allSeenMs,
    bytesPerClient: median(clients.map((c) => c.bytes)),
  };
});
