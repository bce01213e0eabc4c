import { BadRequestException, Controller, Get, Headers, HttpCode, Post, Query } from '@nestjs/common';
import { TaskManager } from '../lib';
import { DigestService } from './digest.service';
import { EmailService } from './email.service';
import { FlakyService } from './flaky.service';
import { ReportService } from './report.service';

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MONTH_PATTERN = /^\d{4}-(0[1-9]|1[0-2])$/;

/** Endpoints that enqueue the sample's tasks; the admin API and dashboard live under /tasks. */
@Controller()
export class DemoController {
  constructor(
    private readonly tasks: TaskManager,
    private readonly email: EmailService,
    private readonly reports: ReportService,
    private readonly flaky: FlakyService,
    private readonly digests: DigestService,
  ) {}

  @Get()
  index(@Headers('host') host?: string) {
    const base = `http://${host || 'localhost:3000'}`;
    const user = process.env.TASKFLOW_USER ?? 'admin';
    return {
      name: 'nestjs-taskflow sample',
      dashboard: `${base}/tasks/dashboard`,
      api: `${base}/tasks`,
      endpoints: [
        {
          route: 'POST /signup?email=<address>',
          task: 'EmailService.sendEmail',
          what: 'sends a welcome email; ~30% of attempts hit a simulated SMTP 421 and are retried (3 retries, 1 s delay, backoff 2)',
          curl: `curl -X POST '${base}/signup?email=ada@example.com'`,
        },
        {
          route: 'POST /reports?kind=<name>&month=<YYYY-MM>',
          task: 'ReportService.generateReport',
          what: 'a 5-10 s report that reports its progress; cancel it to see it stop early',
          curl: `curl -X POST '${base}/reports?kind=sales&month=2026-04'`,
        },
        {
          route: 'POST /imports?file=<name>',
          task: 'FlakyService.importCustomers',
          what: 'a CSV import that always fails (bad row 42) after 2 retries: try retrying it from the dashboard',
          curl: `curl -X POST '${base}/imports?file=customers.csv'`,
        },
        {
          route: 'POST /digests?seed=<text>&rounds=<n>',
          task: 'DigestService.digest',
          what: 'CPU-bound hashing on a worker thread (executor: worker): the app keeps answering while it runs',
          curl: `curl -X POST '${base}/digests?seed=hello&rounds=2000000'`,
        },
      ],
      // The admin API needs a token (auth is on): sign in first, then send it as a bearer.
      admin: [
        `TOKEN=$(curl -s -X POST '${base}/tasks/auth/login' -H 'Content-Type: application/json' -d '{"username":"${user}","password":"<password>"}' | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`,
        `curl -H "Authorization: Bearer $TOKEN" '${base}/tasks'`,
        `curl -H "Authorization: Bearer $TOKEN" '${base}/tasks?status=failed'`,
        `curl -H "Authorization: Bearer $TOKEN" '${base}/tasks/metrics'`,
        `curl -H "Authorization: Bearer $TOKEN" -X POST '${base}/tasks/<task_id>/cancel'`,
        `curl -H "Authorization: Bearer $TOKEN" -X POST '${base}/tasks/<task_id>/retry'`,
      ],
    };
  }

  @Post('signup')
  @HttpCode(202)
  signup(@Query('email') email?: string) {
    if (!email || !EMAIL_PATTERN.test(email)) throw new BadRequestException('query parameter email must be an email address');
    const taskId = this.tasks.addTask(this.email.sendEmail, [email], { tags: { source: 'signup' } });
    return { task_id: taskId };
  }

  @Post('reports')
  @HttpCode(202)
  report(@Query('kind') kind = 'sales', @Query('month') month = new Date().toISOString().slice(0, 7)) {
    if (!/^[\w-]{1,40}$/.test(kind)) throw new BadRequestException('query parameter kind must be a short word');
    if (!MONTH_PATTERN.test(month)) throw new BadRequestException('query parameter month must be YYYY-MM');
    const taskId = this.tasks.addTask(this.reports.generateReport, [kind, month], { tags: { report: kind } });
    return { task_id: taskId };
  }

  @Post('imports')
  @HttpCode(202)
  import(@Query('file') file = 'customers.csv') {
    if (!/^[\w.-]{1,80}$/.test(file)) throw new BadRequestException('query parameter file must be a plain file name');
    const taskId = this.tasks.addTask(this.flaky.importCustomers, [file], { tags: { source: 'upload' } });
    return { task_id: taskId };
  }

  @Post('digests')
  @HttpCode(202)
  digest(@Query('seed') seed = 'hello', @Query('rounds') rounds = '2000000') {
    const count = Number(rounds);
    if (!/^[\w-]{1,80}$/.test(seed)) throw new BadRequestException('query parameter seed must be a short word');
    if (!Number.isInteger(count) || count < 1 || count > 100_000_000)
      throw new BadRequestException('query parameter rounds must be an integer from 1 to 100000000');
    const taskId = this.tasks.addTask(this.digests.digest, [seed, count], { tags: { source: 'demo' } });
    return { task_id: taskId };
  }
}
