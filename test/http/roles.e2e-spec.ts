import request from 'supertest';
import { TaskAdminModule, TaskAuthBackend, TaskAuthResult, TaskRole } from '../../lib';
import { HttpApp, createHttpApp, runToEnd, startHeld } from '../support/http-app';
import { describeEachPlatform } from '../support/http-platforms';
import { SseReader } from '../support/http-sse';

const SECRET = 'roles-secret-0123456789';
const ROLES: TaskRole[] = ['viewer', 'operator', 'admin'];

interface Route {
  name: string;
  /** Least role that may use it. */
  needs: TaskRole;
  /** Sends the request with the given Authorization header; resolves with the status. */
  send(authorization: string): Promise<{ status: number; body: unknown }>;
}

describeEachPlatform('roles', (platform) => {
  let h: HttpApp;
  const tokens = {} as Record<TaskRole, string>;
  let failedId: string;

  beforeAll(async () => {
    h = await createHttpApp(
      {
        auth: [
          ['vera', 'view-pass', 'viewer'],
          ['otto', 'op-pass', 'operator'],
          ['ada', 'admin-pass', 'admin'],
          ['dan', 'default-pass'],
        ],
        secretKey: SECRET,
      },
      { platform },
    );
    for (const [role, username, password] of [
      ['viewer', 'vera', 'view-pass'],
      ['operator', 'otto', 'op-pass'],
      ['admin', 'ada', 'admin-pass'],
    ] as const) {
      const res = await request(h.server).post('/tasks/auth/login').send({ username, password }).expect(200);
      expect(res.body.role).toBe(role);
      tokens[role] = res.body.access_token;
    }
    failedId = (await runToEnd(h.manager, 'Jobs.fail', 'for roles')).task_id;
  });
  afterAll(() => h.close());

  const get =
    (path: string): Route['send'] =>
    (authorization) =>
      request(h.server).get(path).set('Authorization', authorization);
  const routes = (): Route[] => [
    { name: 'GET {path}', needs: 'viewer', send: get('/tasks') },
    { name: 'GET /metrics', needs: 'viewer', send: get('/tasks/metrics') },
    { name: 'GET /audit', needs: 'viewer', send: get('/tasks/audit') },
    { name: 'GET /schedules', needs: 'viewer', send: get('/tasks/schedules') },
    { name: 'GET /registered', needs: 'viewer', send: get('/tasks/registered') },
    { name: 'GET /instances', needs: 'viewer', send: get('/tasks/instances') },
    { name: 'GET /:task_id', needs: 'viewer', send: (a) => get(`/tasks/${failedId}`)(a) },
    { name: 'GET /insights/throughput', needs: 'viewer', send: get('/tasks/insights/throughput') },
    { name: 'GET /insights/functions', needs: 'viewer', send: get('/tasks/insights/functions') },
    { name: 'GET /insights/dead-letters', needs: 'viewer', send: get('/tasks/insights/dead-letters') },
    { name: 'GET /export.csv', needs: 'viewer', send: get('/tasks/export.csv') },
    { name: 'GET /dashboard', needs: 'viewer', send: get('/tasks/dashboard') },
    { name: 'GET /auth/me', needs: 'viewer', send: get('/tasks/auth/me') },
    {
      name: 'GET /dashboard/stream',
      needs: 'viewer',
      send: async (authorization) => {
        const sse = await SseReader.open(`${h.url}/tasks/dashboard/stream`, { Authorization: authorization });
        sse.close();
        return { status: sse.status, body: null };
      },
    },
    { name: 'POST /:task_id/retry', needs: 'operator', send: (a) => request(h.server).post(`/tasks/${failedId}/retry`).set('Authorization', a) },
    {
      name: 'POST /:task_id/cancel',
      needs: 'operator',
      send: async (a) =>
        request(h.server)
          .post(`/tasks/${await startHeld(h.manager, `roles-${Math.random()}`)}/cancel`)
          .set('Authorization', a),
    },
    {
      name: 'POST /bulk-retry',
      needs: 'operator',
      send: (a) =>
        request(h.server)
          .post('/tasks/bulk-retry')
          .set('Authorization', a)
          .send({ task_ids: [failedId] }),
    },
    { name: 'POST /retry-failed', needs: 'operator', send: (a) => request(h.server).post('/tasks/retry-failed?since=all').set('Authorization', a) },
    { name: 'DELETE /history', needs: 'admin', send: (a) => request(h.server).delete('/tasks/history?value=1&unit=day').set('Authorization', a) },
  ];

  const table = ROLES.flatMap((role) => routes().map((route) => [route.name, role, route] as const));
  const rank = (role: TaskRole) => ROLES.indexOf(role);

  it.each(table.map(([name, role]) => [name, role]))('%s as %s', async (name, role) => {
    const route = routes().find((r) => r.name === name)!;
    const res = await route.send(`Bearer ${tokens[role as TaskRole]}`);
    if (rank(role as TaskRole) >= rank(route.needs)) {
      expect(res.status).toBe(200);
    } else {
      expect(res.status).toBe(403);
      expect(res.body).toEqual({
        statusCode: 403,
        message: `This action requires the "${route.needs}" role; you are signed in as "${role}"`,
        error: 'Forbidden',
      });
    }
  });

  it('a pair without a role is admin; /auth/me says who is signed in', async () => {
    const res = await request(h.server).post('/tasks/auth/login').send({ username: 'dan', password: 'default-pass' }).expect(200);
    expect(res.body.role).toBe('admin');
    const me = await request(h.server).get('/tasks/auth/me').set('Authorization', `Bearer ${res.body.access_token}`).expect(200);
    expect(me.body).toEqual({ sub: 'dan', role: 'admin' });
    const form = await request(h.server).post('/tasks/auth/login').type('form').send({ username: 'vera', password: 'view-pass' }).expect(302);
    const cookie = String(form.headers['set-cookie']).split(';')[0];
    expect((await request(h.server).get('/tasks/auth/me').set('Cookie', cookie).expect(200)).body).toEqual({ sub: 'vera', role: 'viewer' });
  });

  it('audits sign-ins and refusals with the address, and the role of each actor', async () => {
    await request(h.server).post('/tasks/auth/login').send({ username: 'otto', password: 'op-pass' }).expect(200);
    await request(h.server).post('/tasks/auth/login').send({ username: 'otto', password: 'nope' }).expect(401);
    await request(h.server).post('/tasks/auth/login').send({ username: 'hunter2-typed-as-username', password: 'x' }).expect(401);
    const retried = await request(h.server).post(`/tasks/${failedId}/retry`).set('Authorization', `Bearer ${tokens.operator}`).expect(200);
    await h.manager.waitFor(retried.body.task_id);
    const audit = await request(h.server).get('/tasks/audit?limit=4').set('Authorization', `Bearer ${tokens.viewer}`).expect(200);
    const address = expect.stringMatching(/127\.0\.0\.1$/);
    expect(audit.body).toEqual([
      expect.objectContaining({ action: 'retry', task_id: failedId, actor: 'otto', detail: expect.objectContaining({ role: 'operator' }) }),
      expect.objectContaining({ action: 'login_failed', task_id: null, actor: '(unknown user)', detail: { address } }),
      expect.objectContaining({ action: 'login_failed', task_id: null, actor: 'otto', detail: { address } }),
      expect.objectContaining({ action: 'login', task_id: null, actor: 'otto', detail: { address, role: 'operator' } }),
    ]);
    for (const entry of audit.body)
      expect(entry).toEqual({
        entry_id: expect.any(String),
        action: entry.action,
        task_id: entry.task_id,
        actor: entry.actor,
        timestamp: expect.any(String),
        detail: entry.detail,
      });
  });

  it('refuses a token without a valid role, and one whose user is not configured', async () => {
    const { JwtService } = await import('@nestjs/jwt');
    const jwt = new JwtService({ secret: SECRET });
    const now = Math.floor(Date.now() / 1000);
    for (const payload of [{ sub: 'ada' }, { sub: 'ada', role: 'superuser' }, { sub: 'ada', role: 7 }, { sub: 'eve', role: 'admin' }]) {
      await request(h.server)
        .get('/tasks')
        .set('Authorization', `Bearer ${jwt.sign({ ...payload, iat: now, exp: now + 60 })}`)
        .expect(401);
    }
  });
});

describeEachPlatform('roles from a TaskAuthBackend', (platform) => {
  class Directory extends TaskAuthBackend {
    readonly users = new Map<string, TaskAuthResult>([
      ['root', true],
      ['watcher', { role: 'viewer' }],
      ['broken', { role: 'owner' as TaskRole }],
    ]);
    exists = true;
    authenticateUser(username: string, password: string): TaskAuthResult {
      return password === 'pw' ? (this.users.get(username) ?? false) : false;
    }
    override userExists(username: string): boolean {
      return this.exists && this.users.has(username);
    }
  }

  it('takes the role from { role }, true as admin; an unknown role is a backend error; userExists is consulted', async () => {
    const directory = new Directory();
    const h = await createHttpApp({ auth: directory, secretKey: SECRET }, { platform });
    try {
      const root = await request(h.server).post('/tasks/auth/login').send({ username: 'root', password: 'pw' }).expect(200);
      expect(root.body.role).toBe('admin');
      const watcher = await request(h.server).post('/tasks/auth/login').send({ username: 'watcher', password: 'pw' }).expect(200);
      expect(watcher.body.role).toBe('viewer');
      await request(h.server).delete('/tasks/history?value=1&unit=day').set('Authorization', `Bearer ${watcher.body.access_token}`).expect(403);
      await request(h.server).post('/tasks/auth/login').send({ username: 'broken', password: 'pw' }).expect(503);
      await request(h.server).get('/tasks').set('Authorization', `Bearer ${root.body.access_token}`).expect(200);
      directory.users.delete('root');
      await request(h.server).get('/tasks').set('Authorization', `Bearer ${root.body.access_token}`).expect(401);
    } finally {
      await h.close();
    }
  });
});

describe('roles in options', () => {
  it.each<[string, unknown]>([
    ['an unknown role', ['ops', 'pw', 'superuser']],
    [
      'a role in a list',
      [
        ['a', 'pw'],
        ['ops', 'pw', 'Operator'],
      ],
    ],
    ['an empty role', ['ops', 'pw', '']],
    ['four elements', ['ops', 'pw', 'viewer', 'x']],
  ])('refuses %s at startup, naming the option', (_label, auth) => {
    expect(() => TaskAdminModule.forRoot({ auth: auth as never })).toThrow(/auth/);
  });

  it('names the role and the allowed ones', () => {
    expect(() => TaskAdminModule.forRoot({ auth: ['ops', 'pw', 'superuser' as TaskRole] })).toThrow(
      /auth \(role of user "ops"\).*viewer, operator, admin.*superuser/,
    );
  });
});
