import { Body, Controller, HttpCode, LoggerService, Post } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { HttpApp, createHttpApp } from '../support/http-app';
import { HttpPlatform, describeEachPlatform } from '../support/http-platforms';

/** Keeps what the app logs at error level, to check that client mistakes are not logged as failures. */
class CapturingLogger implements LoggerService {
  readonly errors: unknown[][] = [];
  log(): void {}
  warn(): void {}
  debug(): void {}
  verbose(): void {}
  error(...params: unknown[]): void {
    this.errors.push(params);
  }
}

/** A route of the host app: its body errors are the app's business, answered as Nest answers them by default. */
@Controller('host')
class HostController {
  @Post()
  @HttpCode(200)
  echo(@Body() body: unknown): unknown {
    return body;
  }
}

const hasStack = (params: unknown[]) => params.some((p) => p instanceof Error || (typeof p === 'string' && /\n\s+at /.test(p)));

describeEachPlatform('body parser errors on the admin routes', (platform) => {
  let h: HttpApp;
  const logger = new CapturingLogger();

  beforeAll(async () => {
    // Fastify's default limit is 1 MiB; with express's 100 kB the bulk-retry route's own 1 MB is put to the test.
    h = await createHttpApp({}, { platform, logger, fastifyBodyLimit: 100 * 1024, controllers: [HostController] });
  });
  afterAll(() => h.close());
  beforeEach(() => logger.errors.splice(0));

  it("answers 50 oversized bodies with 413 in Nest's body and logs no error with a stack", async () => {
    const big = JSON.stringify({ task_ids: ['x'.repeat(2 * 1024 * 1024)] });
    for (let i = 0; i < 50; i++) {
      const res = await request(h.server).post('/tasks/bulk-retry').set('Content-Type', 'application/json').send(big).expect(413);
      expect(res.body).toEqual({ statusCode: 413, error: 'Payload Too Large', message: expect.any(String) });
    }
    expect(logger.errors.filter(hasStack)).toEqual([]);
    expect(logger.errors).toEqual([]);
  });

  it('answers a form body over the limit with 413 too', async () => {
    const res = await request(h.server)
      .post('/tasks/auth/login')
      .type('form')
      .send(`username=${'a'.repeat(200 * 1024)}&password=x`)
      .expect(413);
    expect(res.body).toEqual({ statusCode: 413, error: 'Payload Too Large', message: expect.any(String) });
    expect(logger.errors).toEqual([]);
  });

  // What each platform cannot decode: express's parser refuses an unknown charset or content
  // encoding; Fastify reads every JSON body as UTF-8 and has no parser for a type the app did not add.
  const undecodable: Record<HttpPlatform, [string, Record<string, string>, RegExp][]> = {
    express: [
      ['an unsupported charset', { 'Content-Type': 'application/json; charset=klingon' }, /charset/],
      ['an unsupported content encoding', { 'Content-Type': 'application/json', 'Content-Encoding': 'klingon' }, /encoding/],
    ],
    fastify: [['a media type without a parser', { 'Content-Type': 'application/xml' }, /Unsupported Media Type/]],
  };
  it.each(undecodable[platform])('answers %s with 415 and logs nothing', async (_label, headers, message) => {
    const res = await request(h.server).post('/tasks/bulk-retry').set(headers).send('{"task_ids":[]}').expect(415);
    expect(res.body).toEqual({ statusCode: 415, error: 'Unsupported Media Type', message: expect.stringMatching(message) });
    expect(logger.errors).toEqual([]);
  });

  it('answers malformed JSON with 400 and logs nothing', async () => {
    const res = await request(h.server).post('/tasks/bulk-retry').set('Content-Type', 'application/json').send('{"task_ids": [').expect(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.any(String) });
    expect(logger.errors).toEqual([]);
  });

  it('accepts 5,000 UUIDs in one bulk-retry body and refuses 5,001 with the cap message', async () => {
    const ids = Array.from({ length: 5000 }, () => randomUUID());
    const accepted = await request(h.server).post('/tasks/bulk-retry').send({ task_ids: ids }).expect(200);
    expect(accepted.body).toEqual({ dispatched: 0, skipped: 5000, results: [] });
    const refused = await request(h.server)
      .post('/tasks/bulk-retry')
      .send({ task_ids: [...ids, randomUUID()] })
      .expect(400);
    expect(refused.body).toEqual({ statusCode: 400, error: 'Bad Request', message: '"task_ids" must be an array of at most 5000 strings' });
  });

  it('keeps the default limit on the other routes', async () => {
    const res = await request(h.server)
      .post('/tasks/retry-failed')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ pad: 'x'.repeat(200 * 1024) }))
      .expect(413);
    expect(res.body).toEqual({ statusCode: 413, error: 'Payload Too Large', message: expect.any(String) });
  });

  it("leaves the host app's own routes to the app's handling", async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(200 * 1024) });
    const res = await request(h.server).post('/host').set('Content-Type', 'application/json').send(big).expect(413);
    expect(res.body).toEqual({ statusCode: 413, message: expect.any(String) });
    await request(h.server).post('/host').send({ ok: true }).expect(200, { ok: true });
  });
});
