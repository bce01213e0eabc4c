import { Injectable, Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../constants';
import { TaskStorage } from '../engine/task-storage';

/** How long the list of tokens signed out on other instances is trusted before it is read again. */
export const REVOCATION_REFRESH_MS = 1000;

/**
 * Which tokens were signed out. A sign-out is refused here at once and recorded
 * through the storage backend (the database when there is one), until the token's
 * own expiry. Other instances learn of it when they next read the list: at most
 * once a second, and only when a request needs it, so a request costs no query.
 * When the database cannot be read, the last list read (and this instance's own
 * sign-outs) still apply; a sign-out that could not be written is refused on this
 * instance only, and logged.
 */
@Injectable()
export class SessionRevocations {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  /** Sign-outs made here: jti → expiry (epoch ms). */
  private readonly local = new Map<string, number>();
  private shared = new Set<string>();
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | null = null;

  constructor(private readonly storage: TaskStorage) {}

  async revoke(jti: string, untilEpochMs: number): Promise<void> {
    this.local.set(jti, untilEpochMs);
    try {
      await this.storage.revokeToken(jti, untilEpochMs);
    } catch (error) {
      this.logger.warn(`A signed-out session could not be recorded in storage, so only this instance refuses it: ${describe(error)}`);
    }
  }

  async isRevoked(jti: string, now = Date.now()): Promise<boolean> {
    const until = this.local.get(jti);
    if (until !== undefined) {
      if (until > now) return true;
      this.local.delete(jti);
    }
    if (now - this.readAt >= REVOCATION_REFRESH_MS) await (this.reading ??= this.read(now));
    return this.shared.has(jti);
  }

  private async read(now: number): Promise<void> {
    for (const [jti, until] of this.local) if (until <= now) this.local.delete(jti);
    try {
      this.shared = new Set(await this.storage.revokedTokens(now));
    } catch (error) {
      this.logger.debug?.(`Signed-out sessions could not be read; the last list read applies: ${describe(error)}`);
    } finally {
      this.readAt = now;
      this.reading = null;
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
