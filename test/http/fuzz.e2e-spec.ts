import http from 'node:http';
import request from 'supertest';
import { TaskRecord } from '../../lib';
import { HttpApp, createHttpApp, gate, runToEnd, startHeld } from '../support/http-app';
import { describeEachPlatform } from '../support/http-platforms';
import { prng } from '../support/prng';

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

function generator(seed: number, base: string, token: string | null) {
  const rand = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const chance = (p: number) => rand() < p;

  const weird = [
    '',
    '%20',
    '%00',
    '%ZZ',
    '%E0%A4%A',
    '%C0%AF',
    '..',
    '%2e%2e%2f',
    '__proto__',
    'constructor',
    'prototype',
    '%F0%9F%92%A3',
    '%E2%80%AE',
    'null',
    'undefined',
    'NaN',
    'Infinity',
    '-1',
    '0',
    '1e309',
    '9'.repeat(40),
    'a'.repeat(3000),
    '%27%20OR%201%3D1--',
    '%3Cscript%3E',
    '%0d%0aX-Injected:%201',
    '1.5',
    '0x10',
    '+5',
    'true',
    '3fa85f64-5717-4562-b3fc-2c963f66afa6',
    '3FA85F64-5717-4562-B3FC-2C963F66AFA6',
    '[]',
    '{}',
    '%5B%5D',
  ];
  const keys = [
    'status',
    'func_name',
    'q',
    'tag',
    'since',
    'limit',
    'offset',
    'value',
    'unit',
    'task_ids',
    '__proto__',
    'constructor',
    '__proto__[polluted]',
    'constructor[prototype][polluted]',
    'status[]',
    'limit[$gt]',
    'tag[0]',
    'a[b][c]',
  ];
  const badValues: Record<string, string[]> = {
    status: ['done', 'PENDING', 'success%00', ''],
    since: ['6m', '-1h', 'h', '1.5d', 'ALL', '99999999999d', ''],
    limit: ['0', '5001', '-1', 'x', '1e3', '', '1.0'],
    offset: ['-1', 'x', '1e400', ' 1'],
    value: ['0', '-1', 'x', '1.5', '999999999999', ''],
    unit: ['week', 'MIN', 'sec', '', 'day%00'],
    tag: ['nocolon', ':x', ''],
  };
  const segments = [
    '',
    '/metrics',
    '/audit',
    '/schedules',
    '/registered',
    '/bulk-retry',
    '/retry-failed',
    '/history',
    '/dashboard',
    '/dashboard/stream',
    '/auth/login',
    '/auth/logout',
    '/auth',
    '/auth/login/extra',
    '/metrics/extra',
  ];
  const methods = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS'];
  const jsonBodies = [
    '{"task_ids": "abc"}',
    '{"task_ids": [1, 2]}',
    '{"task_ids": [null]}',
    '{"task_ids": {"0": "a"}}',
    '{"__proto__": {"polluted": true}}',
    '{"constructor": {"prototype": {"polluted": true}}}',
    '{"task_ids": ["' + 'x'.repeat(500) + '"]}',
    '[]',
    '"str"',
    '42',
    'null',
    'true',
    '{',
    '{"a":',
    '{"task_ids": [',
    '['.repeat(2000) + ']'.repeat(2000),
    '{"username": ["a"], "password": {"$ne": 1}}',
    '{"username": "admin"}',
    '{"username": "' + 'u'.repeat(5000) + '", "password": "p"}',
    '\u0000\u0001garbage',
    '{"task_ids": ["\\ud800"]}',
  ];
  const types = [
    'application/json',
    'application/json; charset=utf-16',
    'application/x-www-form-urlencoded',
    'text/plain',
    'multipart/form-data; boundary=x',
    'application/xml',
    '',
    'application/json; charset=latin1',
    'application/merge-patch+json',
  ];

  const query = (): string => {
    const parts: string[] = [];
    const n = Math.floor(rand() * 4);
    for (let i = 0; i < n; i++) {
      const key = pick(keys);
      const plain = key.replace(/\[.*$/, '');
      const value = badValues[plain] && chance(0.6) ? encodeURIComponent(pick(badValues[plain])) : pick(weird);
      parts.push(`${key.startsWith('__') || key.includes('[') ? key.replace(/\[/g, '%5B').replace(/\]/g, '%5D') : key}=${value}`);
      if (chance(0.2)) parts.push(`${key}=${pick(weird)}`);
    }
    if (chance(0.1)) parts.push(pick(weird));
    return parts.length ? `?${parts.join('&')}` : '';
  };

  const routes: [string, () => string][] = [
    ['GET', () => ''],
    ['GET', () => '/metrics'],
    ['GET', () => '/audit'],
    ['GET', () => '/schedules'],
    ['GET', () => '/registered'],
    ['GET', () => `/${pick(weird)}`],
    ['POST', () => `/${pick(weird)}/retry`],
    ['POST', () => `/${pick(weird)}/cancel`],
    ['POST', () => '/bulk-retry'],
    ['POST', () => '/retry-failed'],
    ['DELETE', () => '/history'],
    ['GET', () => '/dashboard'],
    ['HEAD', () => '/dashboard/stream'],
    ['GET', () => '/auth/login'],
    ['POST', () => '/auth/login'],
    ['GET', () => '/auth/logout'],
  ];

  return (): FuzzRequest => {
    let method: string;
    let path: string;
    if (chance(0.7)) {
      const [m, p] = pick(routes);
      method = m;
      path = `${base}${p()}`;
    } else {
      method = pick(methods);
      path = chance(0.35) ? `${base}/${pick(weird)}${pick(['', '/retry', '/cancel', '/retry/x', '/cancel/'])}` : `${base}${pick(segments)}`;
    }
    if (path.endsWith('/dashboard/stream') && method === 'GET' && (token || chance(0.5))) method = 'HEAD';
    path += query();
    const headers: Record<string, string> = {};
    if (token && chance(0.6)) headers.Authorization = `Bearer ${token}`;
    else if (chance(0.2)) headers.Authorization = pick(['Bearer', 'Bearer x.y.z', 'Basic Zm9vOmJhcg==', `Bearer ${'a'.repeat(6000)}`]);
    if (chance(0.2))
      headers.Cookie = pick([
        'taskflow_token=%ZZ',
        'taskflow_token="',
        `taskflow_token=${token ?? 'x'}; taskflow_token=junk`,
        '=;;=',
        'a'.repeat(2000),
      ]);
    if (chance(0.15)) headers.Origin = pick(['http://evil.example', 'null', 'garbage', 'http://[::1', 'file://']);
    if (chance(0.1)) headers['Last-Event-ID'] = pick(weird).slice(0, 100);
    let body: string | undefined;
    if (method !== 'GET' && method !== 'HEAD' && chance(0.7)) {
      const type = pick(types);
      if (type) headers['Content-Type'] = type;
      body =
        type === 'application/x-www-form-urlencoded'
          ? pick([
              'username=a&username=b&password=c',
              'task_ids[]=a',
              '__proto__[polluted]=1',
              'a[b][c][d][e][f]=1',
              '%ZZ=1',
              'username=admin&password=' + 'p'.repeat(2000),
            ])
          : chance(0.05)
            ? 'x'.repeat(200 * 1024)
            : pick(jsonBodies);
    }
    return { method, path, headers, body };
  };
}

function send(url: string, req: FuzzRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    // Framed by its length: Node's client sends the body of an OPTIONS or DELETE unframed, which the
    // server reads as the start of another request (Fastify then answers it on the same socket).
    const headers = req.body === undefined ? req.headers : { ...req.headers, 'Content-Length': String(Buffer.byteLength(req.body)) };
    const client = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c.length > 2000 ? c.slice(0, 2000) : c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    client.setTimeout(5000, () => client.destroy(new Error(`timeout: ${req.method} ${req.path.slice(0, 200)}`)));
    client.on('error', reject);
    client.end(req.body);
  });
}

async function snapshot(h: HttpApp): Promise<TaskRecord[]> {
  return (await h.manager.listTasks({ limit: 5000 })).items;
}

async function seed(h: HttpApp, key: string): Promise<string> {
  await runToEnd(h.manager, 'Jobs.ok', 'fuzz-1', { team: 'a' });
  await runToEnd(h.manager, 'Jobs.ok', 'fuzz-2');
  return startHeld(h.manager, key);
}

async function fuzz(h: HttpApp, base: string, seedValue: number, count: number, token: string | null): Promise<Map<number, number>> {
  const next = generator(seedValue, base, token);
  const statuses = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const req = next();
    let result: { status: number; body: string };
    try {
      result = await send(h.url, req);
    } catch (error) {
      throw new Error(`request #${i} (seed ${seedValue}) failed: ${req.method} ${req.path.slice(0, 200)}: ${String(error)}`, { cause: error });
    }
    if (result.status >= 500) {
      throw new Error(
        `request #${i} (seed ${seedValue}) answered ${result.status}: ${req.method} ${req.path.slice(0, 200)} ${JSON.stringify(req.headers).slice(0, 200)} body=${(req.body ?? '').slice(0, 100)} -> ${result.body.slice(0, 300)}`,
      );
    }
    statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
  }
  return statuses;
}

describeEachPlatform('fuzz: malformed requests on every route', (platform) => {
  afterEach(() => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('never answers 5xx nor changes a task, without auth (simple query parser)', async () => {
    const h = await createHttpApp({ path: '/tasks' }, { platform });
    try {
      const held = await seed(h, `fuzz-open-${platform}`);
      const before = await snapshot(h);
      const statuses = await fuzz(h, '/tasks', 20260430, 400, null);
      expect(await snapshot(h)).toEqual(before);
      expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
      expect(statuses.get(400)).toBeGreaterThan(20);
      expect(statuses.get(404)).toBeGreaterThan(20);
      expect(statuses.get(200)).toBeGreaterThan(20);
      await request(h.server).get('/tasks').expect(200);
      gate(`fuzz-open-${platform}`).open();
      await h.manager.waitFor(held);
    } finally {
      await h.close();
    }
  });

  it('never answers 5xx nor changes a task, with auth and the extended query parser', async () => {
    const h = await createHttpApp({ path: '/admin/jobs', auth: ['admin', 's3cret'], secretKey: 'fuzz-secret' }, { platform, extendedQuery: true });
    try {
      const held = await seed(h, `fuzz-auth-${platform}`);
      const token = (await request(h.server).post('/admin/jobs/auth/login').send({ username: 'admin', password: 's3cret' }).expect(200)).body
        .access_token;
      const before = await snapshot(h);
      const statuses = await fuzz(h, '/admin/jobs', 777, 400, token);
      expect(await snapshot(h)).toEqual(before);
      expect(statuses.get(400)).toBeGreaterThan(20);
      expect(statuses.get(401)).toBeGreaterThan(10);
      // A fresh session: the fuzz may have sent the first token to the logout route, which ends it.
      const fresh = (await request(h.server).post('/admin/jobs/auth/login').send({ username: 'admin', password: 's3cret' }).expect(200)).body
        .access_token;
      await request(h.server).get('/admin/jobs').set('Authorization', `Bearer ${fresh}`).expect(200);
      gate(`fuzz-auth-${platform}`).open();
      await h.manager.waitFor(held);
    } finally {
      await h.close();
    }
  });
});
