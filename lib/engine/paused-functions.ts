import { Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../constants';
import { TaskStorage } from './task-storage';

/** How often the paused set is read from a shared database (a pause elsewhere holds here within this). */
export const PAUSED_READ_EVERY_MS = 1000;

/**
 * The paused functions. A pause or resume here applies at once, and is written to the
 * backend (with a database, every instance reads the set about once a second, and a
 * restarted one at startup, before any task starts). A write that fails is kept and
 * tried again on each read until it lands; until then it wins over what the database says.
 */
export class PausedFunctions {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly names = new Set<string>();
  /** Pauses and resumes not yet written, by name. */
  private readonly unwritten = new Map<string, boolean>();
  private timer: NodeJS.Timeout | null = null;
  private reading: Promise<void> | null = null;
  private outage = false;
  /** Bumped by each set(): a read that overlapped one is not applied (the next read is). */
  private changes = 0;
  /** Told of every change (a resume lets the function's held tasks go). */
  onChange: (name: string, paused: boolean) => void = () => undefined;

  constructor(private readonly storage: TaskStorage) {}

  has(name: string): boolean {
    return this.names.has(name);
  }

  /** Pauses or resumes here at once; resolves once written (or kept to be written when the backend fails). */
  async set(name: string, paused: boolean): Promise<void> {
    this.changes++;
    this.apply(name, paused);
    this.unwritten.set(name, paused);
    await this.writeUnwritten();
  }

  /** Reads the set from the backend (each PAUSED_READ_EVERY_MS while started). */
  refresh(): Promise<void> {
    this.reading ??= this.read().finally(() => (this.reading = null));
    return this.reading;
  }

  start(): void {
    this.timer = setInterval(() => void this.refresh(), PAUSED_READ_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The first read, at startup: a failure fails startup (as the rest of it would), rather than start paused tasks. */
  async load(): Promise<void> {
    await this.writeUnwritten();
    const changes = this.changes;
    this.merge(await this.storage.pausedFunctions(), changes);
  }

  private async read(): Promise<void> {
    await this.writeUnwritten();
    const changes = this.changes;
    let stored: string[];
    try {
      stored = await this.storage.pausedFunctions();
    } catch (error) {
      this.reportOutage(error);
      return;
    }
    this.outage = false;
    this.merge(stored, changes);
  }

  /** Applies a read of the stored set, unless a set() overlapped it (the next read applies). */
  private merge(stored: string[], changesBefore: number): void {
    if (changesBefore !== this.changes) return;
    const now = new Set(stored);
    for (const [name, paused] of this.unwritten) {
      if (paused) now.add(name);
      else now.delete(name);
    }
    for (const name of [...this.names]) if (!now.has(name)) this.apply(name, false);
    for (const name of now) this.apply(name, true);
  }

  private async writeUnwritten(): Promise<void> {
    for (const [name, paused] of [...this.unwritten]) {
      try {
        await this.storage.setPaused(name, paused);
        // A later call for the same name may have replaced this one meanwhile.
        if (this.unwritten.get(name) === paused) this.unwritten.delete(name);
        this.outage = false;
      } catch (error) {
        this.reportOutage(error);
        return;
      }
    }
  }

  private apply(name: string, paused: boolean): void {
    if (this.names.has(name) === paused) return;
    if (paused) this.names.add(name);
    else this.names.delete(name);
    this.onChange(name, paused);
  }

  private reportOutage(error: unknown): void {
    if (this.outage) return;
    this.outage = true;
    this.logger.warn(`Cannot read or store paused functions (${String(error)}); the last known set applies and changes are retried`);
  }
}
