import { LoggerService } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createHash } from 'node:crypto';
import request from 'supertest';
import { TaskAuthBackend } from '../../lib';
import { TASKFLOW_OPTIONS } from '../../lib/constants';
import { ResolvedTaskOptions } from '../../lib/options/resolve-options';
import { HttpApp, createHttpApp, runToEnd, startHeld } from '../support/http-app';
import { describeEachPlatform } from '../support/http-platforms';
import { SseReader } from '../support/http-sse';

const SECRET = 'test-secret-key-0123456789';
const WINDOW_MS = 15 * 60 * 1000;

function cookieOf(res: request.Response): string {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  expect(raw).toHaveLength(1);
  return raw![0];
}

function tokenFromCookie(setCookie: string): string {
  return /^taskflow_token=([^;]*)/.exec(setCookie)![1];
}

function standard(body: unknown, status: number): void {
  expect(body).toEqual(expect.objectContaining({ statusCode: status, message: expect.any(String), error: expect.any(String) }));
}

describeEachPlatform('auth', (platform) => {
  let h: HttpApp;
  let clock = Date.now();
  let origin: string;
  let bearer: string;
  let cookie: string;

  beforeAll(async () => {
    h = await createHttpApp(
      {
        auth: [
          ['admin', 's3cret'],
          ['ünï', 'pässwörd 🔑'],
        ],
        secretKey: SECRET,
        title: '<script>alert("t")</script>',
      },
      {
        platform,
        tuning: { now: () => clock },
        // Behind one trusted proxy (a hop count) the client address comes from X-Forwarded-For (the throttle tests use it).
        trustProxy: 1,
      },
    );
    origin = h.url;
    const json = await request(h.server).post('/tasks/auth/login').send({ username: 'admin', password: 's3cret' }).expect(200);
    bearer = json.body.access_token;
    const form = await request(h.server).post('/tasks/auth/login').type('form').send({ username: 'admin', password: 's3cret' }).expect(302);
    cookie = `taskflow_token=${tokenFromCookie(cookieOf(form))}`;
  });
  afterAll(() => h.close());

  describe('without a token', () => {
    it('API routes answer 401 with a Bearer challenge', async () => {
      for (const path of ['/tasks', '/tasks/metrics', '/tasks/audit', '/tasks/schedules', '/tasks/registered', '/tasks/anything']) {
        const res = await request(h.server).get(path).expect(401);
        standard(res.body, 401);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      }
      await request(h.server).post('/tasks/bulk-retry').send({ task_ids: [] }).expect(401);
      await request(h.server).post('/tasks/retry-failed').expect(401);
      await request(h.server).delete('/tasks/history?value=1&unit=day').expect(401);
    });

    it('the dashboard redirects to the login page', async () => {
      const res = await request(h.server).get('/tasks/dashboard').expect(302);
      expect(res.headers.location).toBe('/tasks/auth/login');
    });

    it('the stream answers 401', async () => {
      const sse = await SseReader.open(`${h.url}/tasks/dashboard/stream`);
      expect(sse.status).toBe(401);
      sse.close();
    });
  });

  describe('login page', () => {
    it('is server-rendered, escapes the title, and allows only its own inline style', async () => {
      const res = await request(h.server).get('/tasks/auth/login').expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/html; charset=utf-8/);
      expect(res.text).toContain('&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;');
      expect(res.text).not.toContain('<script');
      expect(res.text).toMatch(/<form method="post" action="\/tasks\/auth\/login">/);
      expect(res.text).toMatch(/name="username"[^>]*required/);
      expect(res.text).toMatch(/type="password"[^>]*required/);
      expect(res.text).not.toMatch(/https?:\/\//);
      const csp = res.headers['content-security-policy'];
      const style = /<style>([\s\S]*?)<\/style>/.exec(res.text)![1];
      const hash = createHash('sha256').update(style, 'utf8').digest('base64');
      expect(csp).toContain(`style-src 'sha256-${hash}'`);
      expect(csp).toMatch(/default-src 'none'/);
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(csp).not.toMatch(/unsafe-inline|script-src/);
    });
  });

  describe('form login', () => {
    it('sets the session cookie and redirects to the dashboard', async () => {
      const res = await request(h.server).post('/tasks/auth/login').type('form').send({ username: 'admin', password: 's3cret' }).expect(302);
      expect(res.headers.location).toBe('/tasks/dashboard');
      const set = cookieOf(res);
      expect(set).toMatch(/^taskflow_token=[\w-]+\.[\w-]+\.[\w-]+; /);
      expect(set).toContain('HttpOnly');
      expect(set).toContain('SameSite=Strict');
      expect(set).toContain('Path=/tasks');
      expect(set).toContain('Max-Age=86400');
      expect(set).not.toContain('Secure');
      await request(h.server).get('/tasks/dashboard').set('Cookie', `other=1; ${cookie}`).expect(200);
      await request(h.server).get('/tasks').set('Cookie', cookie).expect(200);
    });

    it('answers 401 with the login page and an error on bad credentials', async () => {
      const res = await request(h.server).post('/tasks/auth/login').type('form').send({ username: 'bob<i>', password: 'nope' }).expect(401);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('Invalid username or password');
      expect(res.text).toContain('value="bob&lt;i&gt;"');
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('answers 400 with the page when a field is missing', async () => {
      const res = await request(h.server).post('/tasks/auth/login').type('form').send({ username: 'admin' }).expect(400);
      expect(res.text).toContain('Enter your username and password');
    });
  });

  describe('JSON login', () => {
    it('returns a bearer token: HS256 with sub, role, jti, iat and exp = iat + tokenExpiry', async () => {
      const res = await request(h.server).post('/tasks/auth/login').send({ username: 'admin', password: 's3cret' }).expect(200);
      expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 86400, role: 'admin' });
      expect(res.headers['cache-control']).toBe('no-store');
      const [header, payload] = res.body.access_token
        .split('.')
        .slice(0, 2)
        .map((p: string) => JSON.parse(Buffer.from(p, 'base64url').toString()));
      expect(header.alg).toBe('HS256');
      expect(payload).toEqual({
        sub: 'admin',
        role: 'admin',
        jti: expect.stringMatching(/^[\w-]{22}$/),
        iat: expect.any(Number),
        exp: payload.iat + 86400,
      });
      await request(h.server).get('/tasks').set('Authorization', `Bearer ${res.body.access_token}`).expect(200);
    });

    it('answers 401 with the standard body on bad credentials, also for unicode and unknown users', async () => {
      for (const [username, password] of [
        ['admin', 'wrong'],
        ['admin', 'pässwörd 🔑'],
        ['nobody', 's3cret'],
        ['ünï', 'x'],
      ]) {
        const res = await request(h.server).post('/tasks/auth/login').send({ username, password }).expect(401);
        standard(res.body, 401);
      }
      await request(h.server).post('/tasks/auth/login').send({ username: 'ünï', password: 'pässwörd 🔑' }).expect(200);
    });

    it.each<[string, unknown, string]>([
      ['missing password', { username: 'admin' }, 'application/json'],
      ['array username', { username: ['admin'], password: 's3cret' }, 'application/json'],
      ['number password', { username: 'admin', password: 1234 }, 'application/json'],
      ['huge password', { username: 'admin', password: 'x'.repeat(5000) }, 'application/json'],
      ['text/plain', 'username=admin&password=s3cret', 'text/plain'],
      ['malformed JSON', '{"username":', 'application/json'],
    ])('answers 400 to %s', async (_label, body, type) => {
      const res = await request(h.server)
        .post('/tasks/auth/login')
        .set('Content-Type', type)
        .send(body as object)
        .expect(400);
      standard(res.body, 400);
    });
  });

  describe('tokens', () => {
    const jwt = new JwtService({ secret: SECRET });
    const now = () => Math.floor(Date.now() / 1000);
    const get = (authorization: string) => request(h.server).get('/tasks').set('Authorization', authorization);

    it('accepts a valid bearer token and cookie', async () => {
      await get(`Bearer ${bearer}`).expect(200);
      await get(`bearer ${bearer}`).expect(200);
      await request(h.server).get('/tasks').set('Cookie', cookie).expect(200);
    });

    it('refuses tampered, expired, unsigned, foreign and malformed tokens', async () => {
      const [header, payload, signature] = bearer.split('.');
      const forged = Buffer.from(JSON.stringify({ sub: 'root', role: 'admin', iat: now(), exp: now() + 3600 })).toString('base64url');
      const flipped = signature.slice(0, -2) + (signature.at(-2) === 'A' ? 'B' : 'A') + signature.at(-1);
      const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
      const cases = [
        `${header}.${forged}.${signature}`,
        `${header}.${payload}.${flipped}`,
        none,
        jwt.sign({ sub: 'admin', role: 'admin', iat: now() - 7200, exp: now() - 3600 }),
        jwt.sign({ sub: 'admin', role: 'admin', iat: now(), exp: now() + 3600 }, { secret: 'another-secret' }),
        jwt.sign({ sub: 'admin', role: 'admin', iat: now(), exp: now() + 3600 }, { algorithm: 'HS512' }),
        jwt.sign({ sub: 'admin', role: 'admin', iat: now() }),
        jwt.sign({ role: 'admin', iat: now(), exp: now() + 3600 }),
        // Signed with the right key but without a known role, or for a user that is not configured.
        jwt.sign({ sub: 'admin', iat: now(), exp: now() + 3600 }),
        jwt.sign({ sub: 'admin', role: 'root', iat: now(), exp: now() + 3600 }),
        jwt.sign({ sub: 'mallory', role: 'admin', iat: now(), exp: now() + 3600 }),
        'not.a.token',
        'x'.repeat(5000),
      ];
      for (const token of cases) {
        const res = await get(`Bearer ${token}`).expect(401);
        standard(res.body, 401);
        await request(h.server).get('/tasks').set('Cookie', `taskflow_token=${token}`).expect(401);
        await request(h.server).get('/tasks/dashboard').set('Cookie', `taskflow_token=${token}`).expect(302);
      }
      await get('Bearer ').expect(401);
      await get('Basic YWRtaW46czNjcmV0').expect(401);
    });

    it('an Authorization header, when sent, is the only credential looked at', async () => {
      await get('Bearer nope').set('Cookie', cookie).expect(401);
    });
  });

  describe('cross-origin writes', () => {
    let held: string;
    beforeAll(async () => {
      held = await startHeld(h.manager, `auth-origin-${platform}`);
    });

    it('refuses a cookie-authenticated POST or DELETE from another origin with 403', async () => {
      const otherScheme = origin.replace(/^http:/, 'https:');
      for (const bad of ['http://evil.example', 'null', `${origin.replace(/:\d+$/, ':1')}`, 'https://127.0.0.1', otherScheme, 'garbage']) {
        const res = await request(h.server).post(`/tasks/${held}/cancel`).set('Cookie', cookie).set('Origin', bad).expect(403);
        standard(res.body, 403);
        await request(h.server).delete('/tasks/history?value=1&unit=day').set('Cookie', cookie).set('Origin', bad).expect(403);
        await request(h.server).post('/tasks/bulk-retry').set('Cookie', cookie).set('Origin', bad).send({ task_ids: [] }).expect(403);
      }
      expect((await h.manager.getTask(held))!.status).toBe('running');
    });

    it('lets reads, bearer calls, same-origin and origin-less writes through', async () => {
      await request(h.server).get('/tasks').set('Cookie', cookie).set('Origin', 'http://evil.example').expect(200);
      await request(h.server)
        .post('/tasks/bulk-retry')
        .set('Authorization', `Bearer ${bearer}`)
        .set('Origin', 'http://evil.example')
        .send({ task_ids: [] })
        .expect(200);
      await request(h.server).post('/tasks/bulk-retry').set('Cookie', cookie).send({ task_ids: [] }).expect(200);
      await request(h.server).post(`/tasks/${held}/cancel`).set('Cookie', cookie).set('Origin', origin).expect(200);
    });

    it('refuses a cookie-authenticated write without Origin whose Referer is foreign, and accepts its own Referer', async () => {
      for (const bad of ['http://evil.example/page', `${origin.replace(/^http:/, 'https:')}/tasks/dashboard`, 'not a url']) {
        const res = await request(h.server).post('/tasks/bulk-retry').set('Cookie', cookie).set('Referer', bad).send({ task_ids: [] }).expect(403);
        standard(res.body, 403);
      }
      await request(h.server)
        .post('/tasks/bulk-retry')
        .set('Cookie', cookie)
        .set('Referer', `${origin}/tasks/dashboard`)
        .send({ task_ids: [] })
        .expect(200);
      // The Origin, when sent, is what counts; bearer calls are not origin-checked at all.
      await request(h.server)
        .post('/tasks/bulk-retry')
        .set('Cookie', cookie)
        .set('Origin', origin)
        .set('Referer', 'http://evil.example/')
        .send({ task_ids: [] })
        .expect(200);
      await request(h.server)
        .post('/tasks/bulk-retry')
        .set('Authorization', `Bearer ${bearer}`)
        .set('Referer', 'http://evil.example/')
        .send({ task_ids: [] })
        .expect(200);
    });

    it('refuses a login form posted from another site, without a cookie; JSON login and logout are not origin-checked', async () => {
      const form = () => request(h.server).post('/tasks/auth/login').type('form');
      for (const [header, value] of [
        ['Origin', 'http://evil.example'],
        ['Referer', 'http://evil.example/login'],
        ['Origin', origin.replace(/^http:/, 'https:')],
        ['Origin', 'null'],
      ]) {
        const res = await form().set(header, value).send({ username: 'admin', password: 's3cret' }).expect(403);
        expect(res.headers['set-cookie']).toBeUndefined();
        expect(res.text).toContain('posted from another site');
      }
      await form().set('Origin', origin).send({ username: 'admin', password: 's3cret' }).expect(302);
      await form().set('Referer', `${origin}/tasks/auth/login`).send({ username: 'admin', password: 's3cret' }).expect(302);
      const json = await request(h.server)
        .post('/tasks/auth/login')
        .set('Origin', 'http://evil.example')
        .send({ username: 'admin', password: 's3cret' })
        .expect(200);
      expect(json.headers['set-cookie']).toBeUndefined();
      await request(h.server).get('/tasks/auth/logout').set('Origin', 'http://evil.example').expect(302);
    });
  });

  it('records the token subject as the audit actor', async () => {
    const failed = await runToEnd(h.manager, 'Jobs.fail', 'audited');
    const res = await request(h.server).post(`/tasks/${failed.task_id}/retry`).set('Authorization', `Bearer ${bearer}`).expect(200);
    await h.manager.waitFor(res.body.task_id);
    const audit = await request(h.server).get('/tasks/audit?limit=1').set('Authorization', `Bearer ${bearer}`).expect(200);
    expect(audit.body[0]).toEqual(expect.objectContaining({ action: 'retry', task_id: failed.task_id, actor: 'admin' }));
  });

  it('logout clears the cookie and redirects to the login page', async () => {
    const res = await request(h.server).get('/tasks/auth/logout').set('Cookie', cookie).expect(302);
    expect(res.headers.location).toBe('/tasks/auth/login');
    const set = cookieOf(res);
    expect(set).toMatch(/^taskflow_token=;/);
    expect(set).toContain('Max-Age=0');
    expect(set).toContain('Path=/tasks');
    await request(h.server).post('/tasks/auth/logout').expect(302);
  });

  describe('throttling', () => {
    const attempt = (username: string, password: string, ip = '10.0.0.1') =>
      request(h.server).post('/tasks/auth/login').set('X-Forwarded-For', ip).send({ username, password });

    it('answers 429 with Retry-After after 5 failures for one user from one address, until the window passes', async () => {
      for (let i = 0; i < 5; i++) await attempt('admin', `wrong-${i}`).expect(401);
      const blocked = await attempt('admin', 's3cret').expect(429);
      standard(blocked.body, 429);
      expect(Number(blocked.headers['retry-after'])).toBe(900);
      clock += 60_000;
      expect(Number((await attempt('ADMIN', 's3cret').expect(429)).headers['retry-after'])).toBe(840);
      const form = await request(h.server)
        .post('/tasks/auth/login')
        .set('X-Forwarded-For', '10.0.0.1')
        .type('form')
        .send({ username: 'admin', password: 's3cret' })
        .expect(429);
      expect(form.text).toContain('Too many failed sign-in attempts');
      expect(form.headers['retry-after']).toBeDefined();
      // Another user from the same address, and the same user from another address, are not affected.
      await attempt('ünï', 'pässwörd 🔑').expect(200);
      await attempt('admin', 's3cret', '10.0.0.9').expect(200);
      clock += WINDOW_MS;
      await attempt('admin', 's3cret').expect(200);
    });

    it('counts unknown users the same way, and a success clears the count', async () => {
      const ip = '10.0.0.2';
      for (let i = 0; i < 5; i++) await attempt('ghost', 'x', ip).expect(401);
      await attempt('ghost', 'x', ip).expect(429);
      for (let i = 0; i < 4; i++) await attempt('admin', 'x', ip).expect(401);
      await attempt('admin', 's3cret', ip).expect(200);
      for (let i = 0; i < 5; i++) await attempt('admin', 'x', ip).expect(401);
      await attempt('admin', 'x', ip).expect(429);
      clock += WINDOW_MS;
    });
  });
});

describeEachPlatform('auth settings', (platform) => {
  it('sets Secure on the cookie behind an HTTPS proxy when the platform trusts it', async () => {
    const h = await createHttpApp({ auth: ['u', 'p'], secretKey: SECRET, path: '/admin/jobs' }, { platform, trustProxy: true });
    try {
      const res = await request(h.server)
        .post('/admin/jobs/auth/login')
        .set('X-Forwarded-Proto', 'https')
        .type('form')
        .send({ username: 'u', password: 'p' })
        .expect(302);
      expect(res.headers.location).toBe('/admin/jobs/dashboard');
      const set = cookieOf(res);
      expect(set).toContain('Secure');
      expect(set).toContain('Path=/admin/jobs');
      const token = tokenFromCookie(set);
      await request(h.server).get('/admin/jobs').set('Cookie', `taskflow_token=${token}`).expect(200);
      // Behind the proxy the browser's origin is https://host (port 443) while Host carries no port.
      await request(h.server)
        .post('/admin/jobs/bulk-retry')
        .set('Host', 'jobs.example')
        .set('X-Forwarded-Proto', 'https')
        .set('Origin', 'https://jobs.example')
        .set('Cookie', `taskflow_token=${token}`)
        .send({ task_ids: [] })
        .expect(200);
      await request(h.server)
        .post('/admin/jobs/bulk-retry')
        .set('Host', 'jobs.example')
        .set('X-Forwarded-Proto', 'https')
        .set('Origin', 'https://jobs.example:8443')
        .set('Cookie', `taskflow_token=${token}`)
        .send({ task_ids: [] })
        .expect(403);
      // The scheme counts: the same host over plain HTTP is another origin.
      await request(h.server)
        .post('/admin/jobs/bulk-retry')
        .set('Host', 'jobs.example')
        .set('Origin', 'https://jobs.example')
        .set('Cookie', `taskflow_token=${token}`)
        .send({ task_ids: [] })
        .expect(403);
      await request(h.server)
        .post('/admin/jobs/bulk-retry')
        .set('Host', 'jobs.example')
        .set('Origin', 'http://jobs.example')
        .set('Cookie', `taskflow_token=${token}`)
        .send({ task_ids: [] })
        .expect(200);
    } finally {
      await h.close();
    }
  });

  it('warns once, without the key, when the secret key is generated', async () => {
    const warnings: string[] = [];
    const logger: LoggerService = { log() {}, error() {}, warn: (m: unknown) => void warnings.push(String(m)), debug() {}, verbose() {} };
    const h = await createHttpApp({ auth: ['u', 'p'] }, { platform, logger });
    try {
      const options = h.app.get<ResolvedTaskOptions>(TASKFLOW_OPTIONS);
      const about = warnings.filter((w) => /secretKey/.test(w));
      expect(about).toHaveLength(1);
      expect(about[0]).toMatch(/restart/);
      expect(warnings.join('\n')).not.toContain(options.secretKey);
      const res = await request(h.server).post('/tasks/auth/login').send({ username: 'u', password: 'p' }).expect(200);
      await request(h.server).get('/tasks').set('Authorization', `Bearer ${res.body.access_token}`).expect(200);
    } finally {
      await h.close();
    }
  });

  it('uses a custom TaskAuthBackend, async, and answers 503 (not 500) when it throws', async () => {
    class Directory extends TaskAuthBackend {
      async authenticateUser(username: string, password: string): Promise<boolean> {
        if (username === 'crash') throw new Error('directory down');
        return username === 'carol' && password === 'pw';
      }
    }
    const h = await createHttpApp({ auth: new Directory(), secretKey: SECRET }, { platform });
    try {
      await request(h.server).post('/tasks/auth/login').send({ username: 'carol', password: 'pw' }).expect(200);
      await request(h.server).post('/tasks/auth/login').send({ username: 'carol', password: 'no' }).expect(401);
      standard((await request(h.server).post('/tasks/auth/login').send({ username: 'crash', password: 'x' }).expect(503)).body, 503);
    } finally {
      await h.close();
    }
  });

  it('with publicStream the stream is open while the API stays closed', async () => {
    const h = await createHttpApp({ auth: ['u', 'p'], secretKey: SECRET, publicStream: true }, { platform });
    try {
      const sse = await SseReader.open(`${h.url}/tasks/dashboard/stream`);
      expect(sse.status).toBe(200);
      sse.close();
      await request(h.server).get('/tasks').expect(401);
    } finally {
      await h.close();
    }
  });
});
