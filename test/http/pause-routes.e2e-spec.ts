/**
 * `POST {path}/functions/:func_name/pause` and `/resume` through a real HTTP app with
 * roles: 200 `{func_name, paused}` for an operator, 403 for a viewer, 401 without a
 * session, 404 for an unknown function; `GET /registered` says `paused`; the audit
 * records both actions with their actor and role.
 */
import request from 'supertest';
import { HttpApp, createHttpApp } from '../support/http-app';

describe('pause and resume routes', () => {
  let h: HttpApp;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    h = await createHttpApp({
      auth: [
        ['vera', 'view-pass', 'viewer'],
        ['otto', 'op-pass', 'operator'],
      ],
      secretKey: 'pause-routes-secret-0123456789',
    });
    for (const [username, password] of [
      ['vera', 'view-pass'],
      ['otto', 'op-pass'],
    ]) {
      tokens[username] = (await request(h.server).post('/tasks/auth/login').send({ username, password }).expect(200)).body.access_token;
    }
  });
  afterAll(() => h.close());

  const post = (path: string, who?: string) => {
    const req = request(h.server).post(`/tasks/functions/${path}`);
    return who ? req.set('Authorization', `Bearer ${tokens[who]}`) : req;
  };
  const registered = async (name: string) =>
    (
      (await request(h.server).get('/tasks/registered').set('Authorization', `Bearer ${tokens.vera}`).expect(200)).body as {
        name: string;
        paused: boolean;
      }[]
    ).find((r) => r.name === name);

  it('pauses and resumes for an operator, holding tasks pending meanwhile, and audits both', async () => {
    expect(await registered('Jobs.ok')).toMatchObject({ name: 'Jobs.ok', paused: false });
    expect((await post('Jobs.ok/pause', 'otto').expect(200)).body).toEqual({ func_name: 'Jobs.ok', paused: true });
    expect(await registered('Jobs.ok')).toMatchObject({ paused: true });
    const id = h.manager.addTask('Jobs.ok', ['held']);
    await h.manager.waitFor(h.manager.addTask('Jobs.fail', ['other functions run']));
    expect((await h.manager.getTask(id))!.status).toBe('pending');

    expect((await post('Jobs.ok/resume', 'otto').expect(200)).body).toEqual({ func_name: 'Jobs.ok', paused: false });
    expect((await h.manager.waitFor(id)).status).toBe('success');
    expect(await registered('Jobs.ok')).toMatchObject({ paused: false });
    const audit = (await request(h.server).get('/tasks/audit?limit=2').set('Authorization', `Bearer ${tokens.vera}`).expect(200)).body;
    expect(audit).toEqual([
      expect.objectContaining({ action: 'resume', task_id: null, actor: 'otto', detail: { func_name: 'Jobs.ok', role: 'operator' } }),
      expect.objectContaining({ action: 'pause', task_id: null, actor: 'otto', detail: { func_name: 'Jobs.ok', role: 'operator' } }),
    ]);
  });

  it('answers 404 for an unknown function, 403 for a viewer and 401 without a session', async () => {
    expect((await post('Nope.nothing/pause', 'otto').expect(404)).body).toEqual({
      statusCode: 404,
      message: 'No background task named "Nope.nothing" is registered in this application',
      error: 'Not Found',
    });
    await post(`${encodeURIComponent('a/b')}/resume`, 'otto').expect(404);
    expect((await post('Jobs.ok/pause', 'vera').expect(403)).body).toMatchObject({
      statusCode: 403,
      message: 'This action requires the "operator" role; you are signed in as "viewer"',
    });
    await post('Jobs.ok/resume', 'vera').expect(403);
    await post('Jobs.ok/pause').expect(401);
    await post('Jobs.ok/resume').expect(401);
    expect(h.manager.isPaused('Jobs.ok')).toBe(false);
  });

  it('refuses a cookie-authenticated pause from another site', async () => {
    const form = await request(h.server).post('/tasks/auth/login').type('form').send({ username: 'otto', password: 'op-pass' }).expect(302);
    const cookie = String(form.headers['set-cookie']).split(';')[0];
    await request(h.server).post('/tasks/functions/Jobs.ok/pause').set('Cookie', cookie).set('Origin', 'https://evil.example').expect(403);
    expect(h.manager.isPaused('Jobs.ok')).toBe(false);
  });
});
