import { HttpException } from '@nestjs/common';
import { bodyParserErrorToHttp } from '../../../lib/web/body-parser-errors';

/** An error shaped as http-errors (what body-parser passes to next()). */
function parserError(status: number, type: string, message: string, expose = status < 500): Error {
  return Object.assign(new Error(message), { status, statusCode: status, type, expose });
}

describe('bodyParserErrorToHttp', () => {
  it.each<[number, string, string, string]>([
    [413, 'entity.too.large', 'request entity too large', 'Payload Too Large'],
    [415, 'charset.unsupported', 'unsupported charset "KLINGON"', 'Unsupported Media Type'],
    [415, 'encoding.unsupported', 'unsupported content encoding "klingon"', 'Unsupported Media Type'],
    [400, 'entity.parse.failed', 'Unexpected end of JSON input', 'Bad Request'],
    [413, 'parameters.too.many', 'too many parameters', 'Payload Too Large'],
  ])("maps %d %s to Nest's body", (status, type, message, error) => {
    const mapped = bodyParserErrorToHttp(parserError(status, type, message));
    expect(mapped).toBeInstanceOf(HttpException);
    expect((mapped as HttpException).getStatus()).toBe(status);
    expect((mapped as HttpException).getResponse()).toEqual({ statusCode: status, message, error });
  });

  it('leaves server errors and anything else as they are', () => {
    const server = parserError(500, 'stream.not.readable', 'stream is not readable');
    expect(bodyParserErrorToHttp(server)).toBe(server);
    const hidden = parserError(400, 'x', 'internal detail', false);
    expect(bodyParserErrorToHttp(hidden)).toBe(hidden);
    const plain = new Error('boom');
    expect(bodyParserErrorToHttp(plain)).toBe(plain);
    expect(bodyParserErrorToHttp('text')).toBe('text');
  });
});
