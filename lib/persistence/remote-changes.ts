import { Logger } from '@nestjs/common';
import { TaskRuntime } from '../engine/task-runtime';
import { ChangeGaps } from './change-gaps';
import { ChangeCursor, ChangeNotice, StopListening, TaskChange } from '../storage/change-feed';
import { TaskBackend } from '../storage/task-backend';
import { TaskData } from '../task/task-record';
import { isTerminal } from '../task/task-status';

/** How often the change sequence is polled where the database pushes nothing (MySQL/MariaDB, SQLite). */
export const CHANGE_POLL_MS = 500;
/** Notices arriving within this window are read together. */
const COALESCE_MS = 20;
/** Tasks read per query at most. */
const READ_BATCH = 500;
/** Changes listed per poll query, and pages per poll round at most (the next round goes on). */
const POLL_PAGE = 1000;
const POLL_PAGES = 20;
/** After lost notices: unfinished tasks and those ended since, at most this many. */
const CATCH_UP_LIMIT = 20_000;
/** When a first stream opens: other instances' unfinished tasks, at most this many (a stream's first batch sends 1,000 by default). */
const ON_DEMAND_LIMIT = 2_000;
const RETRY_MS = 1000;
/** How long a gap in the change sequence is watched (a write transaction that took a number and has not committed yet), and how many at most. */
const GAP_WAIT_MS = 5000;
const MAX_GAPS = 1000;

/**
 * Other instances' task changes, into this instance's live stream. The backend names
 * what changed (PostgreSQL pushes ids as writes commit; elsewhere a change sequence is
 * polled every CHANGE_POLL_MS, its gaps watched a while: see ChangeGaps); ids this instance holds itself, and versions already
 * seen, are dropped before anything is read; the rest is coalesced and read in batches
 * of READ_BATCH, so a burst of 10,000 changes elsewhere costs a few dozen queries here,
 * not 10,000. What is read enters RemoteTasks (the stream hub publishes it like a change
 * of its own). A task held here that another instance cancelled is cancelled here at
 * once (RemoteCancels' poll is the fallback). After notices were lost (the listening
 * connection dropped), unfinished tasks and those ended since are read again; so are the
 * unfinished ones when a first stream opens here (nothing is read while none is open).
 */
export class RemoteChanges {
  /** Ids to read, with the version announced (0: unknown). */
  private readonly wanted = new Map<string, number>();
  private stopListening: StopListening | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private drainTimer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private polling = false;
  private cursor: ChangeCursor | null = null;
  private readonly gaps = new ChangeGaps(GAP_WAIT_MS, MAX_GAPS);
  private stopped = false;

  constructor(
    private readonly backend: TaskBackend,
    private readonly runtime: TaskRuntime,
    private readonly logger: Logger,
    /** This instance's id: a row it owns and no longer holds is a change of its own (written, then dropped from memory). */
    private readonly instanceId: string,
  ) {}

  async start(): Promise<void> {
    const kind = this.backend.capabilities.changeFeed;
    // A stream opened here: what other instances hold unfinished now, then their changes as they come.
    this.runtime.remote.onDemand = () => void this.catchUp(Date.now(), ON_DEMAND_LIMIT);
    if (this.runtime.remote.demand) void this.catchUp(Date.now(), ON_DEMAND_LIMIT);
    if (kind === 'notify') {
      this.stopListening = await this.backend.listenForChanges((notice) => this.onNotice(notice));
    } else if (kind === 'poll') {
      this.pollTimer = setInterval(() => void this.poll(), CHANGE_POLL_MS);
      this.pollTimer.unref();
      await this.poll();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.pollTimer = this.drainTimer = null;
    this.wanted.clear();
    this.runtime.remote.onDemand = null;
    await this.stopListening?.().catch(() => undefined);
    this.stopListening = null;
  }

  private onNotice(notice: ChangeNotice): void {
    if (this.stopped) return;
    if ('ids' in notice) {
      this.offer(notice.ids.map((id) => ({ id, version: 0 })));
      this.drainSoon(COALESCE_MS);
      return;
    }
    void this.catchUp(notice.missedSince);
  }

  private async catchUp(since: number, limit = CATCH_UP_LIMIT): Promise<void> {
    try {
      this.offer(await this.backend.changedSince(since, limit));
      this.drainSoon(0);
    } catch (error) {
      this.logger.debug?.(`Reading what other instances changed meanwhile failed: ${String(error)}`);
      if (!this.stopped) setTimeout(() => void this.catchUp(since, limit), RETRY_MS).unref();
    }
  }

  /** One round of the change sequence: pages after the cursor (the first round only places it). */
  private async poll(): Promise<void> {
    if (this.polling || this.stopped || !this.runtime.accepting) return;
    this.polling = true;
    try {
      if (this.cursor === null) {
        this.cursor = await this.backend.changeCursor();
        this.gaps.start(this.cursor.seq);
        return;
      }
      for (let page = 0; page < POLL_PAGES; page++) {
        const next = await this.backend.changesAfter(this.cursor, POLL_PAGE);
        this.cursor = next.cursor;
        this.gaps.see([...(next.passed ?? []), ...seqsOf(next.changes)], Date.now());
        this.offer(next.changes);
        if (next.changes.length < POLL_PAGE) break;
      }
      const gaps = this.gaps.waiting(Date.now());
      if (gaps.length > 0) {
        const late = await this.backend.changesAt(gaps);
        this.gaps.filled(seqsOf(late));
        this.offer(late);
      }
      await this.drain();
    } catch (error) {
      this.logger.debug?.(`Polling other instances' changes failed: ${String(error)}`);
    } finally {
      this.polling = false;
    }
  }

  /**
   * Keeps the changes worth reading: not of a task this instance holds finished or at
   * that version, nor already seen, nor its own changes; while no stream here shows
   * them, only those of tasks this instance holds (a cancel through another instance).
   */
  private offer(changes: readonly TaskChange[]): void {
    const demand = this.runtime.remote.demand;
    for (const { id, version, owner } of changes) {
      const held = this.runtime.live(id);
      if (!held && (!demand || owner === this.instanceId)) continue;
      if (held && (isTerminal(held.status) || (version > 0 && held.version >= version))) continue;
      const seen = this.runtime.remote.versionOf(id);
      if (version > 0 && seen !== undefined && seen >= version) continue;
      this.wanted.set(id, Math.max(version, this.wanted.get(id) ?? 0));
    }
  }

  private drainSoon(ms: number): void {
    if (this.drainTimer || this.stopped) return;
    this.drainTimer = setTimeout(() => {
      this.drainTimer = null;
      void this.drain().catch(() => undefined);
    }, ms);
    this.drainTimer.unref();
  }

  /** Reads what is wanted, READ_BATCH at a time, until nothing is left; one reader at a time. */
  private drain(): Promise<void> {
    this.draining ??= this.readAll().finally(() => (this.draining = null));
    return this.draining;
  }

  private async readAll(): Promise<void> {
    while (this.wanted.size > 0 && !this.stopped) {
      const ids = [...this.wanted.keys()].slice(0, READ_BATCH);
      for (const id of ids) this.wanted.delete(id);
      let rows: TaskData[];
      try {
        rows = await this.backend.getTasks(ids);
      } catch (error) {
        // Read again later (newer notices for the same ids merge in meanwhile).
        for (const id of ids) if (!this.wanted.has(id)) this.wanted.set(id, 0);
        this.logger.debug?.(`Reading tasks other instances changed failed: ${String(error)}`);
        setTimeout(() => this.drainSoon(0), RETRY_MS).unref();
        return;
      }
      for (const row of rows) this.apply(row);
    }
  }

  private apply(row: TaskData): void {
    const held = this.runtime.live(row.id);
    if (!held) {
      if (this.runtime.remote.demand) this.runtime.remote.accept(row);
      return;
    }
    // Held here: this instance's state wins, except a cancel written by another instance.
    if (row.status === 'cancelled' && !isTerminal(held.status) && row.version > held.version) {
      held.version = row.version;
      this.runtime.cancel(held);
      this.logger.log(`Task ${held.id} cancelled through another instance`);
    }
  }
}

function seqsOf(changes: readonly TaskChange[]): number[] {
  return changes.map((c) => c.seq).filter((seq): seq is number => seq !== undefined);
}
