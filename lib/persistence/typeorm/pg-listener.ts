import type { DataSource } from 'typeorm';
import { ChangeListener } from '../../storage/change-feed';
import { parseNotice } from './change-feed';
import { withDeadline } from './deadline';

/** The part of a pg Client the listener uses. */
interface PgClient {
  query(text: string): Promise<unknown>;
  on(event: 'notification', fn: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error' | 'end', fn: (error?: Error) => void): unknown;
  removeAllListeners(event?: string): unknown;
}

type Release = (error?: Error | boolean) => void;

/** How often the listening connection is checked (a black-holed server never closes it). */
const CHECK_EVERY_MS = 5000;
const MIN_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;
/** How far before the last sign of life a missed stretch is taken to start (clocks of the two ends, in-flight commits). */
const MISSED_MARGIN_MS = 2000;

/**
 * PostgreSQL LISTEN on one connection taken from TypeORM's pool (the DataSource's primary)
 * and kept: notices of changes other writers commit (notifyChanged) are parsed and handed
 * on, those of this writer (`origin`) skipped. The connection is checked every 5 s with a
 * `SELECT 1` under the query timeout; when it fails, errors or ends (a restarted server,
 * a killed backend, a partition), it is destroyed and taken again with back-off, and once
 * listening again the listener is told since when notices may have been missed.
 */
export class PgChangeListener {
  private client: PgClient | null = null;
  private release: Release | null = null;
  private stopped = false;
  private checkTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = MIN_RETRY_MS;
  /** Last moment the connection was known to be listening (this process's clock). */
  private lastGood: number | null = null;
  /** Set while notices may be missing: since when. */
  private missedSince: number | null = null;
  private connecting: Promise<void> | null = null;
  /** A connection asked of the pool that did not come in time: no other is asked for until it settles (the pool's slots). */
  private abandoned: Promise<unknown> | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly channel: string,
    private readonly origin: string,
    private readonly timeoutMs: number,
    private readonly listener: ChangeListener,
  ) {}

  /** Listens (or keeps trying in the background when the first attempt fails). */
  async start(): Promise<void> {
    this.missedSince = null;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    const release = this.release;
    this.detach();
    if (!client || !release) return;
    try {
      await withDeadline(client.query(`UNLISTEN ${quote(this.channel)}`), this.timeoutMs, 'UNLISTEN');
      release();
    } catch {
      release(true);
    }
  }

  private connect(): Promise<void> {
    this.connecting ??= this.tryConnect().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async tryConnect(): Promise<void> {
    if (this.stopped) return;
    const driver = this.dataSource.driver as unknown as { obtainMasterConnection(): Promise<[PgClient, Release]> };
    const obtaining = driver.obtainMasterConnection();
    let client: PgClient;
    let release: Release;
    try {
      [client, release] = await withDeadline(obtaining, this.timeoutMs, 'Taking a connection to LISTEN on');
    } catch {
      // A connection that comes after we gave up is not kept.
      obtaining.then(
        ([, late]) => late(true),
        () => undefined,
      );
      this.scheduleRetry();
      return;
    }
    // Errors of a checked-out client are ours to handle: unhandled, one ends the process.
    client.on('error', () => this.dropped(client));
    client.on('end', () => this.dropped(client));
    client.on('notification', (message) => this.onNotification(message));
    try {
      await withDeadline(client.query(`LISTEN ${quote(this.channel)}`), this.timeoutMs, 'LISTEN');
    } catch {
      client.removeAllListeners();
      release(true);
      this.scheduleRetry();
      return;
    }
    if (this.stopped) {
      client.removeAllListeners();
      release(true);
      return;
    }
    this.client = client;
    this.release = release;
    this.retryMs = MIN_RETRY_MS;
    this.lastGood = Date.now();
    this.checkTimer = setInterval(() => void this.check(client), CHECK_EVERY_MS);
    this.checkTimer.unref();
    const missed = this.missedSince;
    this.missedSince = null;
    if (missed !== null) this.listener({ missedSince: missed });
  }

  private onNotification(message: { channel: string; payload?: string }): void {
    if (message.channel !== this.channel) return;
    this.lastGood = Date.now();
    const notice = parseNotice(message.payload);
    if (notice && notice.origin !== this.origin && notice.ids.length > 0) this.listener({ ids: notice.ids });
  }

  private async check(client: PgClient): Promise<void> {
    if (this.client !== client) return;
    try {
      await withDeadline(client.query('SELECT 1'), this.timeoutMs, 'Checking the LISTEN connection');
      if (this.client === client) this.lastGood = Date.now();
    } catch {
      this.dropped(client);
    }
  }

  /** The connection is gone or unusable: destroyed, and taken again. */
  private dropped(client: PgClient): void {
    if (this.client !== client) return;
    const release = this.release;
    this.detach();
    client.removeAllListeners();
    client.on('error', () => undefined);
    release?.(true);
    if (this.stopped) return;
    this.missedSince = (this.lastGood ?? Date.now()) - MISSED_MARGIN_MS;
    this.scheduleRetry();
  }

  private detach(): void {
    if (this.checkTimer) clearInterval(this.checkTimer);
    this.checkTimer = null;
    this.client = null;
    this.release = null;
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    this.missedSince ??= (this.lastGood ?? Date.now()) - MISSED_MARGIN_MS;
    const wait = this.retryMs;
    this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, wait);
    this.retryTimer.unref();
  }
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
