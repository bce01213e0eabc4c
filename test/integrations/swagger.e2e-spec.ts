/**
 * The admin API in the host app's own Swagger document: SwaggerModule.createDocument in a
 * real app, then addTaskflowToDocument, validated by @readme/openapi-parser for both OpenAPI
 * versions @nestjs/swagger writes.
 */
import { Controller, Get, INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ApiOkResponse, ApiProperty, DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { compileErrors, validate } from '@readme/openapi-parser';
import request from 'supertest';
import { TaskAdminModule, TaskManagerModule, addTaskflowToDocument } from '../../lib';

/** The host's own DTO, named like one of the package's schemas: neither may replace the other. */
class TaskRecord {
  @ApiProperty()
  title!: string;
}

@Controller('todos')
class TodosController {
  @Get()
  @ApiOkResponse({ type: TaskRecord })
  list(): TaskRecord[] {
    return [];
  }
}

@Module({
  imports: [TaskAdminModule.forRoot({ path: '/admin/jobs', auth: ['admin', 'secret-password'], secretKey: 'k'.repeat(32) })],
  controllers: [TodosController],
})
class HostModule {}

type Operation = {
  operationId: string;
  tags: string[];
  security?: Record<string, unknown>[];
  parameters?: { name: string; schema: Record<string, unknown> }[];
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
};
type Paths = Record<string, Record<string, Operation>>;

async function validated(document: OpenAPIObject): Promise<void> {
  const result = await validate(structuredClone(document) as never);
  if (!result.valid) throw new Error(compileErrors(result));
}

describe('addTaskflowToDocument: the admin API typed in the host’s Swagger document', () => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await NestFactory.create(HostModule, { logger: false });
    app.setGlobalPrefix('api');
    await app.init();
  });
  afterAll(async () => {
    await app.close();
  });

  const build = (version?: string) => {
    const config = new DocumentBuilder().setTitle('Host API').setVersion('1.0');
    if (version) config.setOpenAPIVersion(version);
    return SwaggerModule.createDocument(app, config.build());
  };

  it('without it, Swagger’s scan lists the admin routes untyped (what the helper replaces)', () => {
    const scanned = build().paths as Paths;
    expect(scanned['/api/admin/jobs/{task_id}'].get.responses['200']).toEqual({ description: '' });
    expect(Object.keys(scanned['/api/admin/jobs/auth/login'].post.responses)).toEqual(['201']);
  });

  it('3.0 (Swagger’s default): every admin operation typed, the schemas written as 3.0, the host’s own untouched; the parser accepts it', async () => {
    const document = addTaskflowToDocument(app, build());
    expect(document.openapi).toBe('3.0.0');
    await validated(document);

    const paths = document.paths as Paths;
    const schemas = document.components!.schemas as Record<string, Record<string, unknown>>;
    // The host's own route and DTO are still there, beside the package's schema of the same name.
    expect(paths['/api/todos'].get.responses['200'].content?.['application/json'].schema).toEqual({ $ref: '#/components/schemas/TaskRecord' });
    expect(schemas.TaskRecord).toMatchObject({ properties: { title: { type: 'string' } } });

    const detail = paths['/api/admin/jobs/{task_id}'].get;
    expect(detail.operationId).toBe('taskflow_get_task_id');
    expect(detail.tags).toEqual(['taskflow tasks']);
    expect(detail.responses['200'].content?.['application/json'].schema).toEqual({ $ref: '#/components/schemas/TaskflowTaskRecord' });
    expect(detail.responses['404'].content?.['application/json'].schema).toEqual({ $ref: '#/components/schemas/TaskflowError' });
    expect(detail.security).toEqual([{ taskflowBearer: [] }, { taskflowCookie: [] }, {}]);
    expect(paths['/api/admin/jobs/metrics'].get.responses['200'].content?.['application/json'].schema).toEqual({
      $ref: '#/components/schemas/TaskflowTaskMetrics',
    });
    expect(Object.keys(paths['/api/admin/jobs/auth/login'].post.responses)).toContain('200');

    // No operation of Swagger's untyped scan is left under the mount path.
    const adminOperations = Object.entries(paths)
      .filter(([path]) => path.startsWith('/api/admin/jobs'))
      .flatMap(([, methods]) => Object.values(methods));
    expect(adminOperations.length).toBeGreaterThan(15);
    expect(adminOperations.filter((op) => !op.operationId.startsWith('taskflow_'))).toEqual([]);

    // 3.1's nullable types and const in 3.0's words.
    const record = schemas.TaskflowTaskRecord as { properties: Record<string, Record<string, unknown>> };
    expect(record.properties.start_time).toEqual({ type: 'string', format: 'date-time', nullable: true });
    expect(record.properties.status).toEqual({ $ref: '#/components/schemas/TaskflowTaskStatus' });
    const schedule = schemas.TaskflowScheduleInfo as { properties: Record<string, unknown> };
    expect(schedule.properties.last_status).toEqual({ allOf: [{ $ref: '#/components/schemas/TaskflowTaskStatus' }], nullable: true });
    expect((schemas.TaskflowTokenResponse as { properties: Record<string, unknown> }).properties.token_type).toEqual({
      type: 'string',
      enum: ['bearer'],
    });
    expect(document.components!.securitySchemes).toMatchObject({
      taskflowBearer: { type: 'http', scheme: 'bearer' },
      taskflowCookie: { in: 'cookie' },
    });
    expect(JSON.stringify(document)).not.toMatch(/"null"|"const"/);
  });

  it('3.1: the same operations and schemas as the package’s own openapi.json, renamed', async () => {
    const document = addTaskflowToDocument(app, build('3.1.0'));
    await validated(document);
    const login = await request(app.getHttpServer()).post('/api/admin/jobs/auth/login').send({ username: 'admin', password: 'secret-password' });
    const own = (
      await request(app.getHttpServer()).get('/api/admin/jobs/openapi.json').set('Authorization', `Bearer ${login.body.access_token}`).expect(200)
    ).body as { paths: Paths; components: { schemas: Record<string, unknown> } };
    const rename = (value: unknown) =>
      JSON.parse(JSON.stringify(value).replace(/#\/components\/schemas\//g, '#/components/schemas/Taskflow')) as unknown;
    const paths = document.paths as Paths;
    // openapi.json is served under the mount path only: the app's global prefix is Nest's, and the helper adds it.
    for (const [path, methods] of Object.entries(own.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const merged = paths[`/api${path}`][method];
        expect({ ...merged, operationId: undefined, tags: undefined, security: undefined }).toEqual({
          ...(rename(operation) as object),
          operationId: undefined,
          tags: undefined,
          security: undefined,
        });
      }
    }
    for (const [name, schema] of Object.entries(own.components.schemas))
      expect(document.components!.schemas![`Taskflow${name}`]).toEqual(rename(schema));
  });

  it('twice gives the same document; ignoreGlobalPrefix mirrors createDocument’s', () => {
    const once = addTaskflowToDocument(app, build());
    expect(addTaskflowToDocument(app, structuredClone(once))).toEqual(once);
    const unprefixed = addTaskflowToDocument(app, SwaggerModule.createDocument(app, new DocumentBuilder().build(), { ignoreGlobalPrefix: true }), {
      ignoreGlobalPrefix: true,
    });
    expect(Object.keys(unprefixed.paths).filter((p) => p.startsWith('/api'))).toEqual([]);
    expect((unprefixed.paths as Paths)['/admin/jobs/metrics'].get.operationId).toBe('taskflow_get_metrics');
  });

  it('says what is wrong in an app without the admin API', async () => {
    @Module({ imports: [TaskManagerModule.forRoot({})] })
    class NoRoutes {}
    const bare = await NestFactory.create(NoRoutes, { logger: false });
    try {
      expect(() => addTaskflowToDocument(bare, { openapi: '3.0.0', paths: {} })).toThrow(/mounts no admin API \(import TaskAdminModule/);
    } finally {
      await bare.close();
    }
  });
});
