import { ExecutionContext, INestApplication, ImATeapotException, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { TaskAdminModule, TaskManager } from '../../lib';
import { ExtractedToken, TaskAuthGuard } from '../../lib/auth/task-auth.guard';
import { TaskPrincipal } from '../../lib/auth/task-principal';
import { ADMIN_PROVIDERS, createAdminControllers } from '../../lib/http/admin-controllers';
import { HttpRequest } from '../../lib/web/http-types';
import { Jobs, runToEnd } from '../support/http-app';
import { createPlatformApp, describeEachPlatform } from '../support/http-platforms';

/** A guard that also accepts an API key and answers 418 instead of 401: every step is overridable. */
@Injectable()
class ApiKeyGuard extends TaskAuthGuard {
  protected override extractToken(request: HttpRequest): ExtractedToken | null {
    const key = request.headers['x-api-key'];
    return typeof key === 'string' ? { token: key, source: 'bearer' } : super.extractToken(request);
  }

  protected override async verifyToken(token: string): Promise<TaskPrincipal | null> {
    return token === 'robot-key' ? { sub: 'robot', role: 'operator' } : super.verifyToken(token);
  }

  protected override handleUnauthenticated(_context: ExecutionContext): never {
    throw new ImATeapotException('Send X-Api-Key');
  }
}

describeEachPlatform('TaskAuthGuard can be extended', (platform) => {
  let app: INestApplication;

  beforeAll(async () => {
    @Module({ controllers: createAdminControllers('/custom', ApiKeyGuard), providers: ADMIN_PROVIDERS })
    class CustomSurface {}
    const moduleRef = await Test.createTestingModule({
      imports: [TaskAdminModule.forRoot({ auth: ['admin', 'pw'], secretKey: 'guard-secret', shutdownGracePeriod: 0 }), CustomSurface],
      providers: [Jobs],
    }).compile();
    app = createPlatformApp(moduleRef, platform, {}, { logger: false });
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
