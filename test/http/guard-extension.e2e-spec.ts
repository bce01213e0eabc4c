import { ExecutionContext, INestApplication, ImATeapotException, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { TaskAdminModule, TaskManager } from '../../lib';
import { LoginThrottle } from '../../lib/auth/login-throttle';
import { ExtractedToken, TaskAuthGuard } from '../../lib/auth/task-auth.guard';
import { TaskPrincipal } from '../../lib/auth/task-principal';
import { ADMIN_PROVIDERS, createAdminControllers } from '../../lib/http/admin-controllers';
import { DEFAULT_ADMIN_TUNING } from '../../lib/options/admin-tuning';
import { HttpRequest } from '../../lib/web/http-types';
import { Jobs, runToEnd } from '../support/http-app';

/** A guard that also accepts an API key and answers 418 instead of 401: every step is overridable. */
@Injectable()
class ApiKeyGuard extends TaskAuthGuard {
  protected override extractToken(request: HttpRequest): ExtractedToken | null {
    const key = request.headers['x-api-key'];
    return typeof key === 'string' ? { token: key, source: 'bearer' } : super.extractToken(request);
  }

  protected override async verifyToken(token: string): Promise<TaskPrincipal | null> {
    return token === 'robot-key' ? { sub: 'robot' } : super.verifyToken(token);
  }

  protected override handleUnauthenticated(_context: ExecutionContext): never {
    throw new ImATeapotException('Send X-Api-Key');
  }
}

describe('TaskAuthGuard can be extended', () => {
  let app: INestApplication;

  beforeAll(async () => {
    @Module({ controllers: createAdminControllers('/custom', ApiKeyGuard), providers: ADMIN_PROVIDERS })
    class CustomSurface {}
    const moduleRef = await Test.createTestingModule({
      imports: [TaskAdminModule.forRoot({ auth: ['admin', 'pw'], secretKey: 'guard-secret', shutdownGracePeriod: 0 }), CustomSurface],
      providers: [Jobs],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
  });
  afterAll(() => app.close());

  it('uses the overridden steps', async () => {
    const failed = await runToEnd(app.get(TaskManager), 'Jobs.fail', 'guarded');
    await request(app.getHttpServer()).get('/custom').set('X-Api-Key', 'robot-key').expect(200);
    await request(app.getHttpServer()).get('/custom').expect(418);
    const res = await request(app.getHttpServer()).post(`/custom/${failed.task_id}/retry`).set('X-Api-Key', 'robot-key').expect(200);
    await app.get(TaskManager).waitFor(res.body.task_id);
    const audit = await request(app.getHttpServer()).get('/custom/audit?limit=1').set('X-Api-Key', 'robot-key').expect(200);
    expect(audit.body[0]).toEqual(expect.objectContaining({ action: 'retry', actor: 'robot' }));
  });
});

describe('LoginThrottle', () => {
  it('keeps at most loginThrottleMaxKeys pairs, dropping expired ones first, then the least recently failed', () => {
    let now = 0;
    const throttle = new LoginThrottle({ ...DEFAULT_ADMIN_TUNING, loginThrottleMaxKeys: 3, loginWindowMs: 1000, now: () => now });
    throttle.fail('a');
    now = 10;
    for (const key of ['b', 'c']) throttle.fail(key);
    now = 1005;
    throttle.fail('d');
    expect(throttle.size).toBe(3);
    for (let i = 0; i < 5; i++) throttle.fail('e');
    expect(throttle.size).toBe(3);
    expect(throttle.retryAfter('e')).toBe(1);
    for (let i = 0; i < 1000; i++) throttle.fail(`k${i}`);
    expect(throttle.size).toBe(3);
  });

  it('counts per address and username, case-insensitively, in a sliding window', () => {
    let now = 0;
    const throttle = new LoginThrottle({ ...DEFAULT_ADMIN_TUNING, now: () => now });
    const key = LoginThrottle.key('10.0.0.1', 'Admin');
    expect(LoginThrottle.key('10.0.0.1', 'ADMIN')).toBe(key);
    expect(LoginThrottle.key('10.0.0.2', 'admin')).not.toBe(key);
    for (let i = 0; i < 5; i++) {
      throttle.fail(key);
      now += 60_000;
    }
    // Failures at 0, 1, 2, 3, 4 min; now 5 min: the oldest leaves the window at 15 min.
    expect(throttle.retryAfter(key)).toBe(600);
    now = 15 * 60_000;
    expect(throttle.retryAfter(key)).toBe(0);
    throttle.fail(key);
    expect(throttle.retryAfter(key)).toBe(60);
    throttle.succeed(key);
    expect(throttle.retryAfter(key)).toBe(0);
  });
});
