import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { httpMessages } from '../http-messages';
import { parseInteger, singleParam } from './query-values';

const MINUTE_MS = 60_000;
const UNIT_MS = { min: MINUTE_MS, hour: 60 * MINUTE_MS, day: 24 * 60 * MINUTE_MS } as const;
/** Windows are limited to 100 years, whatever the unit. */
const MAX_VALUE = { min: 100 * 365 * 24 * 60, hour: 100 * 365 * 24, day: 100 * 365 } as const;

/** The query of `DELETE {path}/history?value=N&unit=min|hour|day` → the epoch-ms cutoff. */
@Injectable()
export class HistoryQueryPipe implements PipeTransform<unknown, number> {
  transform(query: unknown): number {
    const unit = singleParam(query, 'unit');
    if (unit === undefined) throw new BadRequestException(httpMessages.missing('unit'));
    if (unit !== 'min' && unit !== 'hour' && unit !== 'day') throw new BadRequestException(httpMessages.invalidUnit(unit));
    const raw = singleParam(query, 'value');
    if (raw === undefined) throw new BadRequestException(httpMessages.missing('value'));
    const value = parseInteger('value', raw, 1, MAX_VALUE[unit]);
    return Date.now() - value * UNIT_MS[unit];
  }
}
