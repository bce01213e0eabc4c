import { HttpException } from '@nestjs/common';
import { errorCodes } from 'fastify';
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

/** Fastify's own error classes, as its content type parsers throw them. */
describe('bodyParserErrorToHttp with Fastify errors', () => {
  it.each<[string, Error, number, string]>([
    ['body too large', new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), 413, 'Payload Too Large'],
    ['no parser for the media type', new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), 415, 'Unsupported Media Type'],
    ['an empty JSON body', new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), 400, 'Bad Request'],
    ['malformed JSON', Object.assign(new SyntaxError('Unexpected end of JSON input'), { statusCode: 400 }), 400, 'Bad Request'],
  ])("maps %s to Nest's body", (_label, error, status, name) => {
    const mapped = bodyParserErrorToHttp(error);
    expect(mapped).toBeInstanceOf(HttpException);
    expect((mapped as HttpException).getResponse()).toEqual({ statusCode: status, message: error.message, error: name });
  });

  it('leaves errors that are not a body parser refusal as they are', () => {
    const routing = new errorCodes.FST_ERR_NOT_FOUND();
    expect(bodyParserErrorToHttp(routing)).toBe(routing);
    const serverSide = Object.assign(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), { statusCode: 500 });
    expect(bodyParserErrorToHttp(serverSide)).toBe(serverSide);
    const unparsedSyntax = new SyntaxError('thrown by application code');
    expect(bodyParserErrorToHttp(unparsedSyntax)).toBe(unparsedSyntax);
  });
});
