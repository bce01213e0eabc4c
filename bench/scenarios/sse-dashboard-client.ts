/**
 * One dashboard page as scenario 5 emulates it, without a browser: the first page of
 * the table (the `pageSize` newest tasks, `GET /tasks?limit=`), kept up to date from
 * its view stream (`?view=1`, no filters: the page that gets the most) as the page's
 * script does it: a change updates its row or inserts a newer task on top; a `resync`
 * reads the page again (one read at a time, one more after it when another hint came
 * meanwhile).
 *
 * Lag: for every row whose state the page changes, the time it changed on the page
 * minus the record's own timestamp of that change (see changeOf). Settled: the page
 * holds `pageSize` tasks of the burst, all succeeded, as the server's own list says at the end.
 */
import http from 'node:http';
import { wallMs } from '../common';
import { openStream, SseEvent } from './sse-stream';

interface Row {
  status: string;
  createdAt: number;
}

interface ListedRecord {
  task_id: string;
  status: string;
  created_at: string;
  start_time: string | null;
  end_time: string | null;
}

const STAGE: Record<string, number> = { pending: 0, running: 1 };
const stage = (status: string) => STAGE[status] ?? 2;

/** Epoch ms of the change a record's state comes from (as changeOf reads it from the JSON). */
function changedAt(record: ListedRecord): number {
  const stamp = record.status === 'pending' ? record.created_at : record.status === 'running' ? record.start_time : record.end_time;
  return stamp ? Date.parse(stamp) : NaN;
}

export class DashboardClient {
  events = 0;
  bytes = 0;
  resyncs = 0;
  reads = 0;
  settledAt: number | null = null;
  /** The newest first. */
  private page = new Map<string, Row>();
  private reading: Promise<void> | null = null;
  private readAgain = false;
  private burstFrom = Infinity;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(
    private readonly base: string,
    private readonly pageSize: number,
    private readonly lags: number[],
    private readonly onSettled: () => void,
  ) {}

  async open(): Promise<void> {
    await openStream(
      `${this.base}/dashboard/stream?view=1`,
      (event, at) => this.onEvent(event, at),
      (n) => (this.bytes += n),
    );
    await this.read();
  }

  /** The burst starts (server clock): only its tasks settle the page. */
  burst(from: number): void {
    this.burstFrom = from;
  }

  /** Rows missing from the page, or whose state is not the server's end state (`truth`: status by task id). */
  lost(truth: ReadonlyMap<string, string>): number {
    let lost = this.pageSize - this.page.size;
    for (const [id, row] of this.page) if (truth.get(id) !== row.status) lost++;
    return lost;
  }

  close(): void {
    this.agent.destroy();
  }

  private onEvent(event: SseEvent, at: number): void {
    if (event.event === 'resync') {
      this.resyncs++;
      void this.read();
      return;
    }
    if (event.event !== undefined || event.data === undefined) return;
    this.events++;
    const record = JSON.parse(event.data) as ListedRecord;
    this.apply(record, at);
    this.trim();
    this.checkSettled();
  }

  /** A change: its row updated, or a newer task inserted on top (the page is the newest first). */
  private apply(record: ListedRecord, at: number): void {
    const row = this.page.get(record.task_id);
    if (row) {
      if (stage(record.status) < stage(row.status) || record.status === row.status) return;
      row.status = record.status;
    } else {
      const createdAt = Date.parse(record.created_at);
      const oldest = [...this.page.values()].at(-1);
      if (this.page.size >= this.pageSize && oldest && createdAt < oldest.createdAt) return;
      this.page = new Map([[record.task_id, { status: record.status, createdAt }], ...this.page]);
    }
    this.lags.push(at - changedAt(record));
  }

  private trim(): void {
    while (this.page.size > this.pageSize) this.page.delete([...this.page.keys()].at(-1)!);
  }

  private read(): Promise<void> {
    if (this.reading) {
      this.readAgain = true;
      return this.reading;
    }
    this.reading = this.list().then((records) => {
      const at = wallMs();
      this.reads++;
      const page = new Map<string, Row>();
      for (const record of records) {
        const before = this.page.get(record.task_id);
        if (before?.status !== record.status) this.lags.push(at - changedAt(record));
        page.set(record.task_id, { status: record.status, createdAt: Date.parse(record.created_at) });
      }
      this.page = page;
      this.checkSettled();
      this.reading = null;
      if (this.readAgain) {
        this.readAgain = false;
        return this.read();
      }
    });
    return this.reading;
  }

  /** The newest `limit` tasks, as the page reads them. */
  list(limit = this.pageSize): Promise<ListedRecord[]> {
    return new Promise((resolve, reject) => {
      http
        .get(`${this.base}?limit=${limit}`, { agent: this.agent }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve(JSON.parse(body) as ListedRecord[]));
        })
        .on('error', reject);
    });
  }

  private checkSettled(): void {
    if (this.settledAt !== null || this.page.size < this.pageSize) return;
    for (const row of this.page.values()) if (row.status !== 'success' || row.createdAt < this.burstFrom) return;
    this.settledAt = wallMs();
    this.onSettled();
  }
}
