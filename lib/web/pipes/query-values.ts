import { BadRequestException } from '@nestjs/common';
import { MAX_QUERY_TEXT } from '../../task/request-limits';
import { httpMessages } from '../http-messages';

/**
 * Readers for raw request values as the platform hands them over: a string, an array
 * when a query key repeats, an object with the extended query parser, anything
 * from JSON. Each returns a typed value or throws a 400 with a precise message.
 */

/** Free-text filters (func_name, q, search) are at most this long. */
export const MAX_TEXT = MAX_QUERY_TEXT;

const HOUR_MS = 3_600_000;

/** `bag[key]` when `bag` is an object that has it as an own key (never from the prototype). */
export function ownValue(bag: unknown, key: string): unknown {
  if (bag === null || typeof bag !== 'object') return undefined;
  return Object.prototype.hasOwnProperty.call(bag, key) ? (bag as Record<string, unknown>)[key] : undefined;
}

/** A query parameter given at most once, as a string; undefined when absent. */
export function singleParam(query: unknown, name: string): string | undefined {
  const value = ownValue(query, name);
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new BadRequestException(httpMessages.repeated(name));
  if (typeof value !== 'string') throw new BadRequestException(httpMessages.notAString(name));
  return value;
}

/** A query parameter that may repeat (`tag=a:1&tag=b:2`), as strings. */
export function repeatedParam(query: unknown, name: string): string[] {
  const value = ownValue(query, name);
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((v): v is string => typeof v === 'string')) throw new BadRequestException(httpMessages.notAString(name));
  return list;
}

/** A single free-text parameter of at most MAX_TEXT characters. */
export function textParam(query: unknown, name: string): string | undefined {
  const value = singleParam(query, name);
  if (value !== undefined && value.length > MAX_TEXT) throw new BadRequestException(httpMessages.tooLong(name, MAX_TEXT));
  return value;
}

/** A decimal integer within [min, max]: digits only, no sign, exponent or spaces. */
export function parseInteger(name: string, raw: string, min: number, max: number): number {
  const value = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) throw new BadRequestException(httpMessages.invalidInteger(name, raw, min, max));
  return value;
}

/** An optional integer parameter within [min, max], `fallback` when absent. */
export function integerParam(query: unknown, name: string, min: number, max: number, fallback: number): number {
  const raw = singleParam(query, name);
  return raw === undefined ? fallback : parseInteger(name, raw, min, max);
}

/**
 * `<N>h`, `<N>d` or `all` → the epoch-ms cutoff (`now - N units`), or null for
 * `all`. `0h` is valid: a window that ends now.
 */
export function parseSince(raw: string, now: number): number | null {
  if (raw === 'all') return null;
  const match = /^(\d{1,7})([hd])$/.exec(raw);
  if (!match) throw new BadRequestException(httpMessages.invalidSince(raw));
  return now - Number(match[1]) * (match[2] === 'h' ? HOUR_MS : 24 * HOUR_MS);
}
