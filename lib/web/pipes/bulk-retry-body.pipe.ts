import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { httpMessages } from '../http-messages';
import { MAX_BULK_IDS } from '../../task/request-limits';
import { ownValue } from './query-values';

const MAX_ID_LENGTH = 128;

/**
 * Bytes of JSON `POST {path}/bulk-retry` reads: MAX_BULK_IDS ids of the longest
 * allowed length fit (5,000 UUIDs take about 200 kB, twice express's default 100 kB).
 */
export const BULK_RETRY_BODY_LIMIT = 1024 * 1024;

/** The body of `POST {path}/bulk-retry`, `{task_ids: string[]}` sent as JSON (see JsonBody), → the ids. */
@Injectable()
export class BulkRetryBodyPipe implements PipeTransform<unknown, string[]> {
  transform(body: unknown): string[] {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BadRequestException(httpMessages.bulkBody());
    const ids = ownValue(body, 'task_ids');
    if (ids === undefined) throw new BadRequestException(httpMessages.bulkBody());
    if (!Array.isArray(ids) || ids.length > MAX_BULK_IDS) throw new BadRequestException(httpMessages.bulkIds(MAX_BULK_IDS));
    ids.forEach((id, index) => {
      if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
        throw new BadRequestException(httpMessages.bulkId(index, MAX_ID_LENGTH));
      }
    });
    return ids as string[];
  }
}
