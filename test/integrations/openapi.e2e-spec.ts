import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { compileErrors, validate } from '@readme/openapi-parser';
import request from 'supertest';
import { TaskAdminModule } from '../../lib';
import { ADMIN_ROUTES } from '../../lib/integrations/openapi/admin-routes';
import { mountedRoutes, routeKey } from '../../lib/integrations/openapi/openapi-document';
import { createAdminControllers } from '../../lib/http/admin-controllers';
import { HttpPlatform, describeEachPlatform, startPlatformApp } from '../support/http-platforms';

async function startApp(platform: HttpPlatform, options: Parameters<typeof TaskAdminModule.forRoot>[0]): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [TaskAdminModule.forRoot(options)] }).compile();
  return startPlatformApp(moduleRef, platform, {}, { logger: false });
}

type Document = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown>; parameters?: { name: string }[] }>> };

describeEachPlatform('GET {path}/openapi.json', (platform) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('serves an OpenAPI 3.1 document of every mounted admin route that a parser of OpenAPI documents accepts', async () => {
    app = await startApp(platform, { path: '/admin/jobs' });
    const res = await request(app.getHttpServer()).get('/admin/jobs/openapi.json').expect(200);
    const document = res.body as Document;
    expect(document.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(document) as never);
    if (!result.valid) throw new Error(compileErrors(result));
    expect(result.specification).toBe('OpenAPI');

    // Every route the module mounts is in the document, under the mount path.
    const operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(operations).toEqual(
      expect.arrayContaining([
        'GET /admin/jobs',
        'GET /admin/jobs/metrics',
        'GET /admin/jobs/audit',
        'GET /admin/jobs/{task_id}',
        'POST /admin/jobs/{task_id}/retry',
        'POST /admin/jobs/{task_id}/cancel',
        'POST /admin/jobs/bulk-retry',
        'POST /admin/jobs/retry-failed',
        'DELETE /admin/jobs/history',
        'GET /admin/jobs/schedules',
        'GET /admin/jobs/dashboard',
        'GET /admin/jobs/dashboard/stream',
        'GET /admin/jobs/auth/login',
        'POST /admin/jobs/auth/login',
        'GET /admin/jobs/auth/logout',
        'GET /admin/jobs/openapi.json',
      ]),
    );
    // With parameters and the bodies of success and errors.
    const retry = document.paths['/admin/jobs/{task_id}/retry'].post;
    expect(retry.parameters?.map((p) => p.name)).toEqual(['task_id']);
    expect(retry.responses['200']).toEqual({
      description: 'The new task',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/TaskActionResult' } } },
    });
    expect(Object.keys(retry.responses).sort()).toEqual(['200', '400', '401', '403', '404', '409']);
    expect(retry.responses['404']).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
    expect(document.paths['/admin/jobs/history'].delete.parameters?.map((p) => p.name)).toEqual(['value', 'unit']);
  });

  it('is guarded like the other read routes when auth is on', async () => {
    app = await startApp(platform, { auth: ['admin', 'secret-password'], secretKey: 'k'.repeat(32) });
    const denied = await request(app.getHttpServer()).get('/tasks/openapi.json').expect(401);
    expect(denied.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    const login = await request(app.getHttpServer()).post('/tasks/auth/login').send({ username: 'admin', password: 'secret-password' }).expect(200);
    await request(app.getHttpServer()).get('/tasks/openapi.json').set('Authorization', `Bearer ${login.body.access_token}`).expect(200);
  });
});

describe('the OpenAPI route descriptions', () => {
  it('describe every route the admin controllers declare (a new route without a description fails here)', () => {
    const undescribed = mountedRoutes(createAdminControllers('/tasks'))
      .map(routeKey)
      .filter((key) => !(key in ADMIN_ROUTES));
    expect(undescribed).toEqual([]);
  });
});
