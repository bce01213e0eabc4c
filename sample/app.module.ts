import { Module } from '@nestjs/common';
import { TaskAdminModule } from '../lib';
import { ConsoleObserver } from './console.observer';
import { DemoController } from './demo.controller';
import { EMAIL_FAILURE_RATE, EmailService, emailFailureRateFromEnv } from './email.service';
import { FlakyService } from './flaky.service';
import { ReportService } from './report.service';

@Module({
  imports: [
    TaskAdminModule.forRoot({
      title: 'nestjs-taskflow sample',
      autoInstall: true,
      maxConcurrentTasks: 4,
      loggers: [new ConsoleObserver()],
    }),
  ],
  controllers: [DemoController],
  providers: [
    EmailService,
    ReportService,
    FlakyService,
    // Chance that one email attempt fails; SAMPLE_EMAIL_FAILURE_RATE=0 makes the sample deterministic.
    { provide: EMAIL_FAILURE_RATE, useFactory: () => emailFailureRateFromEnv() },
  ],
})
export class AppModule {}
