import { HttpException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';

/**
 * A client's mistake in a request body (too large, malformed JSON, unsupported media
 * type, charset or content encoding, too many parameters), as the platform's parser
 * reports it: express's body parser throws an http-errors object (a `type` such as
 * `entity.too.large` and a 4xx `status`), Fastify an error of code `FST_ERR_CTP_…`
 * or, for malformed JSON, a SyntaxError, with a 4xx `statusCode`. Nest maps some of
 * them without the `error` field, and answers the others as unknown errors, logged at
 * error level with a stack. This turns them into the HttpException Nest itself would
 * throw: its usual body, no log. Anything else (a 5xx, any other error) is returned
 * unchanged.
 */
export function bodyParserErrorToHttp(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const status = clientStatus(error as ParserError);
  if (status === undefined) return error;
  return new HttpException(HttpException.createBody(error.message, STATUS_CODES[status] ?? 'Error', status), status, { cause: error });
}

interface ParserError extends Error {
  type?: unknown;
  status?: unknown;
  expose?: unknown;
  code?: unknown;
  statusCode?: unknown;
}

function clientStatus(error: ParserError): number | undefined {
  const fromExpress = typeof error.type === 'string' && error.expose !== false ? error.status : undefined;
  const fromFastify =
    (typeof error.code === 'string' && error.code.startsWith('FST_ERR_CTP_')) || error instanceof SyntaxError ? error.statusCode : undefined;
  const status = fromExpress ?? fromFastify;
  return typeof status === 'number' && status >= 400 && status <= 499 ? status : undefined;
}
