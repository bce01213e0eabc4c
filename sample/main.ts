import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  const address = app.getHttpServer().address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const base = `http://localhost:${actualPort}`;
  const logger = new Logger('Sample');
  logger.log(`Listening on ${base}  (GET ${base}/ lists the demo endpoints with curl examples)`);
  logger.log(
    `Dashboard: ${base}/tasks/dashboard  (sign in as ${process.env.TASKFLOW_USER ?? 'admin'}; the password is TASKFLOW_PASSWORD, default "admin")`,
  );
  logger.log(`API:       ${base}/tasks`);
}

bootstrap().catch((error) => {
  // eslint-disable-next-line no-console
  console.error(error);
  process.exit(1);
});
