import { sampleDir } from '../support/sample-env';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { rmSync } from 'node:fs';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { TaskManager } from '../../lib';
import { AppModule } from '../../sample/app.module';
import { EMAIL_FAILURE_RATE, emailFailureRateFromEnv } from '../../sample/email.service';

describe('sample app (e2e)', () => {
  let app: INestApplication;
  let manager: TaskManager;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(EMAIL_FAILURE_RATE)
      .useValue(0) // no simulated SMTP hiccups: the email task succeeds on its first attempt
      .compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0);
    manager = app.get(TaskManager);
  });

  afterAll(async () => {
    await app?.close();
    rmSync(sampleDir, { recursive: true, force: true });
  });

  it('GET / lists the demo endpoints and where the admin surface lives', async () => {
    const res = await request(app.getHttpServer()).get('/').expect(200);
    expect(res.body.dashboard).toMatch(/\/tasks\/dashboard$/);
    expect(res.body.api).toMatch(/\/tasks$/);
    expect(res.body.endpoints.map((e: { task: string }) => e.task)).toEqual([
      'EmailService.sendEmail',
      'ReportService.generateReport',
      'FlakyService.importCustomers',
      'DigestService.digest',
    ]);
  });

  it('the admin curl lines sign in first, so they answer the data rather than 401', async () => {
    const res = await request(app.getHttpServer()).get('/').expect(200);
    const [login, ...calls] = res.body.admin as string[];
    expect(login).toContain('/tasks/auth/login');
    const password = process.env.TASKFLOW_PASSWORD ?? 'admin';
    // Asynchronously: the app answering curl runs in this process.
    const run = async (line: string) =>
      (await promisify(execFile)('bash', ['-c', `set -e\n${login.replace('<password>', password)}\n${line}`])).stdout;
    expect(JSON.parse(await run(calls[0]))).toEqual(expect.any(Array));
    expect(JSON.parse(await run(calls[2]))).toMatchObject({ total: expect.any(Number) });
    for (const line of calls) expect(line).toContain('Authorization: Bearer $TOKEN');
  });

  it('POST /signup enqueues EmailService.sendEmail, which succeeds', async () => {
    const res = await request(app.getHttpServer()).post('/signup').query({ email: 'ada@example.com' }).expect(202);
    expect(res.body).toEqual({ task_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/) });

    const record = await manager.waitFor(res.body.task_id);
    expect(record).toMatchObject({
      task_id: res.body.task_id,
      func_name: 'EmailService.sendEmail',
      status: 'success',
      retries_used: 0,
      error: null,
      tags: { source: 'signup' },
      source: 'manual',
    });
    expect(record.logs.some((line) => line.endsWith('Sending welcome email to ada@example.com'))).toBe(true);
  });

  it('POST /signup without a valid email answers 400 and enqueues nothing', async () => {
    const before = (await manager.listTasks({})).total;
    await request(app.getHttpServer()).post('/signup').query({ email: 'not-an-address' }).expect(400);
    expect((await manager.listTasks({})).total).toBe(before);
  });

  it('POST /imports enqueues FlakyService.importCustomers, which fails after its retries', async () => {
    const res = await request(app.getHttpServer()).post('/imports').query({ file: 'customers.csv' }).expect(202);
    const record = await manager.waitFor(res.body.task_id);
    expect(record).toMatchObject({ func_name: 'FlakyService.importCustomers', status: 'failed', retries_used: 2 });
    expect(record.error).toMatch(/^CsvParseError: customers\.csv: row 42/);
    expect(record.logs).toContain('--- Retry 2 ---');
  });

  it('POST /digests hashes on a worker thread (executor "worker") with progress, and answers 400 to bad input', async () => {
    await request(app.getHttpServer()).post('/digests').query({ rounds: 'many' }).expect(400);
    const res = await request(app.getHttpServer()).post('/digests').query({ seed: 'ada', rounds: 120000 }).expect(202);
    const record = await manager.waitFor(res.body.task_id);
    expect(record).toMatchObject({ func_name: 'DigestService.digest', status: 'success', executor: 'worker', progress: 1 });
    expect(record.logs[0]).toMatch(/Hashing "ada" 120000 times with sha256 on worker thread [1-9]\d*$/);
    expect(record.logs.at(-1)).toMatch(/Digest: [0-9a-f]{64}$/);
  }, 60_000);
});

describe('sample email failure rate', () => {
  it('defaults to 0.3 and is read from SAMPLE_EMAIL_FAILURE_RATE', () => {
    expect(emailFailureRateFromEnv({})).toBe(0.3);
    expect(emailFailureRateFromEnv({ SAMPLE_EMAIL_FAILURE_RATE: '0' })).toBe(0);
    expect(() => emailFailureRateFromEnv({ SAMPLE_EMAIL_FAILURE_RATE: '2' })).toThrow(/between 0 and 1/);
  });
});
