import { Module } from '@nestjs/common';
import { TaskAdminModule } from '../lib';
import { ConsoleObserver } from './console.observer';
import { DigestService, DigestSettings } from './digest.service';
import { DemoController } from './demo.controller';
import { EMAIL_FAILURE_RATE, EmailService, emailFailureRateFromEnv } from './email.service';
import { FlakyService } from './flaky.service';
import { ReportService } from './report.service';

@Module({
  imports: [
    TaskAdminModule.forRoot({
      title: 'nestjs-taskflow sample',
      // History in a SQLite file beside the app; unfinished tasks survive restarts and crashes.
      snapshotDb: process.env.SAMPLE_DB ?? 'tasks.db',
      requeuePending: true,
      retentionDays: 30,
      autoInstall: true,
      maxConcurrentTasks: 4,
      // Sign in to the dashboard with these (defaults for a local demo only).
      auth: [process.env.TASKFLOW_USER ?? 'admin', process.env.TASKFLOW_PASSWORD ?? 'admin'],
      secretKey: process.env.TASKFLOW_SECRET,
      loggers: [new ConsoleObserver()],
      // Threads for `executor: 'worker'` tasks: each boots this very module (its own compiled file,
      // dist/sample/app.module.js under `npm start`), in which the package starts nothing.
      workers: { module: `${__filename}#AppModule` },
    }),
  ],
  controllers: [DemoController],
  providers: [
    EmailService,
    ReportService,
    FlakyService,
    DigestService,
    DigestSettings,
    // Chance that one email attempt fails; SAMPLE_EMAIL_FAILURE_RATE=0 makes the sample deterministic.
    { provide: EMAIL_FAILURE_RATE, useFactory: () => emailFailureRateFromEnv() },
  ],
})
export class AppModule {}
