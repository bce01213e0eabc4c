import { Logger } from '@nestjs/common';
import { LOGGER_CONTEXT } from '../constants';

/** What failed against the database: the write-behind, or the reads the manager answers. */
export type OutageSide = 'writes' | 'reads';

/**
 * The one account of whether the database is reachable, shared by the write-behind and
 * the reads: an outage is logged once, by whichever side fails first, and the recovery
 * once, when neither is failing any more, so a partition yields two lines, not one per
 * failed write or read.
 */
export class DatabaseOutage {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private readonly failing = new Set<OutageSide>();

  /** True while some side is failing: reads answer from memory without asking the database. */
  get down(): boolean {
    return this.failing.size > 0;
  }

  isFailing(side: OutageSide): boolean {
    return this.failing.has(side);
  }

  /** `message` is logged only if this failure starts an outage. */
  failed(side: OutageSide, message: string): void {
    if (this.failing.size === 0) this.logger.error(message);
    this.failing.add(side);
  }

  recovered(side: OutageSide): void {
    if (!this.failing.delete(side) || this.failing.size > 0) return;
    this.logger.log('Database reachable again; task history reads and writes resumed');
  }
}

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
