import { Injectable } from '@nestjs/common';
import { BackgroundTask, taskLog } from '../lib';

/** A bad row in an uploaded file: retrying cannot fix it, so this task always ends `failed`. */
export class CsvParseError extends Error {
  override readonly name = 'CsvParseError';
}

@Injectable()
export class FlakyService {
  /** Imports a CSV whose row 42 is broken: fails on every attempt, to show failures and retries in the dashboard. */
  @BackgroundTask({ retries: 2, delay: 0.5 })
  async importCustomers(file: string): Promise<number> {
    taskLog(`Opening ${file}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    taskLog('Parsed header: id,name,email,price (41 rows read)');
    throw new CsvParseError(`${file}: row 42, column "price": expected a decimal number, got "12,5O"`);
  }
}
