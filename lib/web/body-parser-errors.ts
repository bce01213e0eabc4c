import { HttpException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';

/**
 * express's body parser reports a client's mistake (body too large, malformed
 * JSON, unsupported charset or content encoding, too many parameters) as an
 * http-errors object: a `type` such as `entity.too.large` and a 4xx `status`.
 * Nest maps only malformed JSON; anything else reaches its filter as an unknown
 * error, answered without `error` and logged at error level with a stack. This
 * turns them into the HttpException Nest itself would throw: its usual body,
 * no log. Errors of the server (5xx, or anything else) are returned unchanged.
 */
export function bodyParserErrorToHttp(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const { type, status, expose } = error as Error & { type?: unknown; status?: unknown; expose?: unknown };
  if (typeof type !== 'string' || typeof status !== 'number' || status < 400 || status > 499 || expose === false) return error;
  return new HttpException(HttpException.createBody(error.message, STATUS_CODES[status] ?? 'Error', status), status, { cause: error });
}
