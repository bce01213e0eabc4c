import request from 'supertest';
import { REVOCATION_REFRESH_MS } from '../../lib/auth/session-revocations';
import { DatabaseTarget, describeEachDatabase, uniquePrefix } from '../support/databases';
import { HttpApp, createHttpApp } from '../support/http-app';
import { HTTP_PLATFORMS, describeEachPlatform } from '../support/http-platforms';

const SECRET = 'session-revocation-secret-0123456789';
const USERS: [string, string][] = [
  ['admin', 's3cret'],
  ['ops', 'pa55'],
];

async function formLogin(h: HttpApp, username = 'admin', password = 's3cret'): Promise<string> {
  const res = await request(h.server).post('/tasks/auth/login').type('form').send({ username, password }).expect(302);
  const raw = (res.headers['set-cookie'] as unknown as string[])[0];
  return `taskflow_token=${/^taskflow_token=([^;]*)/.exec(raw)![1]}`;
}

async function jsonLogin(h: HttpApp): Promise<string> {
  const res = await request(h.server).post('/tasks/auth/login').send({ username: 'admin', password: 's3cret' }).expect(200);
  return `Bearer ${res.body.access_token}`;
}

/** Polls `url` with `headers` until it answers `status`; resolves with the milliseconds that took. */
async function untilStatus(h: HttpApp, headers: Record<string, string>, status: number, deadlineMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const res = await request(h.server).get('/tasks/metrics').set(headers);
    if (res.status === status) return Date.now() - started;
    if (Date.now() - started > deadlineMs) throw new Error(`still ${res.status} after ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describeEachPlatform('logout ends the session (memory backend)', (platform) => {
  let h: HttpApp;
  beforeAll(async () => (h = await createHttpApp({ auth: USERS, secretKey: SECRET }, { platform })));
  afterAll(() => h.close());

  it('the cookie it carried answers 401 afterwards; another session of the same user stays valid', async () => {
    const signedOut = await formLogin(h);
    const other = await formLogin(h);
    await request(h.server).get('/tasks/metrics').set('Cookie', signedOut).expect(200);
    await request(h.server).get('/tasks/auth/logout').set('Cookie', signedOut).expect(302);
    const refused = await request(h.server).get('/tasks/metrics').set('Cookie', signedOut).expect(401);
    expect(refused.body).toEqual({ statusCode: 401, message: expect.any(String), error: 'Unauthorized' });
    await request(h.server).get('/tasks/dashboard').set('Cookie', signedOut).expect(302);
    await request(h.server).get('/tasks/metrics').set('Cookie', other).expect(200);
  });

  it('a bearer token sent to logout (POST too) is refused afterwards', async () => {
    const bearer = await jsonLogin(h);
    const other = await jsonLogin(h);
    await request(h.server).post('/tasks/auth/logout').set('Authorization', bearer).expect(302);
    await request(h.server).get('/tasks/metrics').set('Authorization', bearer).expect(401);
    await request(h.server).get('/tasks/metrics').set('Authorization', other).expect(200);
  });

  it('a logout without a token, or with an invalid one, still redirects', async () => {
    await request(h.server).get('/tasks/auth/logout').expect(302);
    await request(h.server).get('/tasks/auth/logout').set('Cookie', 'taskflow_token=not-a-token').expect(302);
  });
});

describeEachDatabase(
  'logout ends the session on every instance sharing the database',
  (target: DatabaseTarget) => {
    const options = { auth: USERS, secretKey: SECRET, database: target.options, tablePrefix: uniquePrefix() };
    let first: HttpApp;
    let second: HttpApp;
    // The two instances run on different platforms where both are tested (first Express, second Fastify).
    const [platformA, platformB] = [HTTP_PLATFORMS[0], HTTP_PLATFORMS[HTTP_PLATFORMS.length - 1]];
    beforeAll(async () => {
      first = await createHttpApp(options, { platform: platformA });
      second = await createHttpApp(options, { platform: platformB });
    });
    afterAll(async () => {
      await second?.close();
      await first?.close();
    });

    it('a cookie signed out on one app is refused by the other within about a second', async () => {
      const signedOut = await formLogin(first);
      const other = await formLogin(first, 'ops', 'pa55');
      await request(second.server).get('/tasks/metrics').set('Cookie', signedOut).expect(200);
      await request(first.server).get('/tasks/auth/logout').set('Cookie', signedOut).expect(302);
      await request(first.server).get('/tasks/metrics').set('Cookie', signedOut).expect(401);
      const took = await untilStatus(second, { Cookie: signedOut }, 401, 5000);
      expect(took).toBeLessThanOrEqual(REVOCATION_REFRESH_MS + 1000);
      await request(second.server).get('/tasks/metrics').set('Cookie', other).expect(200);
      await request(first.server).get('/tasks/metrics').set('Cookie', other).expect(200);
    });

    it('a bearer signed out on the second app is refused by the first; a restarted app still refuses it', async () => {
      const bearer = await jsonLogin(second);
      await request(first.server).get('/tasks/metrics').set('Authorization', bearer).expect(200);
      await request(second.server).get('/tasks/auth/logout').set('Authorization', bearer).expect(302);
      await untilStatus(first, { Authorization: bearer }, 401, 5000);
      await second.close();
      second = await createHttpApp(options, { platform: platformB });
      await request(second.server).get('/tasks/metrics').set('Authorization', bearer).expect(401);
    });
  },
  ['sqlite', 'postgres'],
);
