import request from 'supertest';
import { TaskAuthBackend } from '../../lib';
import { HttpApp, createHttpApp } from '../support/http-app';
import { TrustProxy, describeEachPlatform } from '../support/http-platforms';

const SECRET = 'throttle-secret-0123456789';

/** A directory that takes 100 ms to answer, as an LDAP or database lookup may. */
class SlowDirectory extends TaskAuthBackend {
  async authenticateUser(username: string, password: string): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return username === 'carol' && password === 'right';
  }
}

function statuses(responses: request.Response[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const res of responses) counts[res.status] = (counts[res.status] ?? 0) + 1;
  return counts;
}

describeEachPlatform('login throttle over HTTP', (platform) => {
  describe('with a slow asynchronous backend', () => {
    let h: HttpApp;
    beforeAll(async () => {
      h = await createHttpApp({ auth: new SlowDirectory(), secretKey: SECRET }, { platform, tuning: { now: () => 0 } });
    });
    afterAll(() => h.close());

    it('counts attempts before awaiting the backend: of 200 concurrent wrong logins only 5 reach it', async () => {
      const responses = await Promise.all(
        Array.from({ length: 200 }, () => request(h.server).post('/tasks/auth/login').send({ username: 'carol', password: 'wrong' })),
      );
      expect(statuses(responses)).toEqual({ 401: 5, 429: 195 });
      for (const res of responses.filter((r) => r.status === 429)) expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    });
  });

  describe('password spraying from one address (trust proxy: 1)', () => {
    let h: HttpApp;
    let clock = 0;
    const login = (username: string, password: string, ip: string) =>
      request(h.server).post('/tasks/auth/login').set('X-Forwarded-For', ip).send({ username, password });

    beforeAll(async () => {
      h = await createHttpApp(
        {
          auth: [
            ['admin', 's3cret'],
            ['ops', 'ops-pass', 'operator'],
          ],
          secretKey: SECRET,
        },
        { platform, tuning: { now: () => clock }, trustProxy: 1 },
      );
    });
    afterAll(() => h.close());

    it('one password over 60 usernames: 20 answer 401, then 429 with a Retry-After that grows; another address still signs in', async () => {
      const responses: request.Response[] = [];
      for (let i = 0; i < 60; i++) responses.push(await login(`user${i}`, 'Summer2026!', '10.9.9.9'));
      expect(responses.slice(0, 20).every((r) => r.status === 401)).toBe(true);
      expect(responses.slice(20).every((r) => r.status === 429)).toBe(true);
      expect(Number(responses[20].headers['retry-after'])).toBe(1);
      clock += 1000;
      await login('user60', 'Summer2026!', '10.9.9.9').expect(401);
      expect(Number((await login('user61', 'Summer2026!', '10.9.9.9').expect(429)).headers['retry-after'])).toBe(2);
      // The real users, from their own addresses, are not slowed down.
      await login('admin', 's3cret', '10.9.9.10').expect(200);
      await login('ops', 'ops-pass', '10.9.9.11').expect(200);
      clock += 15 * 60_000;
      await login('admin', 's3cret', '10.9.9.9').expect(200);
    });

    it('120 tries over 40 usernames: the address budget stops it at 20', async () => {
      clock += 15 * 60_000;
      const responses: request.Response[] = [];
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 40; i++) responses.push(await login(`name${i}`, `guess${round}`, '10.9.8.1'));
      }
      expect(statuses(responses)).toEqual({ 401: 20, 429: 100 });
      await login('admin', 's3cret', '10.9.8.2').expect(200);
    });

    it('5 wrong passwords for a user lock that user out from that address only', async () => {
      clock += 15 * 60_000;
      for (let i = 0; i < 5; i++) await login('admin', `wrong-${i}`, '10.9.7.1').expect(401);
      await login('admin', 's3cret', '10.9.7.1').expect(429);
      await login('admin', 's3cret', '10.9.7.2').expect(200);
    });
  });

  describe.each<[string, TrustProxy]>([
    ['trust proxy: true', true],
    ['no trust proxy', false],
  ])('with %s the throttle keys on the connection address', (_label, trust) => {
    let h: HttpApp;
    beforeAll(async () => {
      h = await createHttpApp({ auth: ['admin', 's3cret'], secretKey: SECRET }, { platform, tuning: { now: () => 0 }, trustProxy: trust });
    });
    afterAll(() => h.close());

    it('a rotating X-Forwarded-For does not reset the count', async () => {
      for (let i = 0; i < 5; i++) {
        await request(h.server)
          .post('/tasks/auth/login')
          .set('X-Forwarded-For', `203.0.113.${i}`)
          .send({ username: 'admin', password: 'x' })
          .expect(401);
      }
      const res = await request(h.server)
        .post('/tasks/auth/login')
        .set('X-Forwarded-For', '198.51.100.7')
        .send({ username: 'admin', password: 's3cret' })
        .expect(429);
      expect(Number(res.headers['retry-after'])).toBe(900);
    });
  });

  it('with a list of trusted proxies the throttle keys on the address they forwarded', async () => {
    const h = await createHttpApp({ auth: ['admin', 's3cret'], secretKey: SECRET }, { platform, tuning: { now: () => 0 }, trustProxy: 'loopback' });
    try {
      for (let i = 0; i < 5; i++) {
        await request(h.server)
          .post('/tasks/auth/login')
          .set('X-Forwarded-For', '203.0.113.1')
          .send({ username: 'admin', password: 'x' })
          .expect(401);
      }
      await request(h.server)
        .post('/tasks/auth/login')
        .set('X-Forwarded-For', '203.0.113.1')
        .send({ username: 'admin', password: 's3cret' })
        .expect(429);
      await request(h.server)
        .post('/tasks/auth/login')
        .set('X-Forwarded-For', '203.0.113.2')
        .send({ username: 'admin', password: 's3cret' })
        .expect(200);
    } finally {
      await h.close();
    }
  });
});
