/// <reference lib="dom" />
/**
 * By-hand measurement (not a test) of what one open, idle dashboard page costs: the
 * server's CPU, the requests it receives, the stream's bytes, and the browser's CPU.
 *
 *   out=/tmp/taskflow-dashboard-idle && rm -rf $out && \
 *   npx tsc --ignoreConfig --outDir $out --rootDir . --module commonjs --target ES2022 \
 *     --esModuleInterop --experimentalDecorators --emitDecoratorMetadata --skipLibCheck \
 *     --types node bench/dashboard-idle.ts && \
 *   node scripts/build-dashboard.mjs --copy $out/lib/dashboard/assets && \
 *   NODE_PATH=$PWD/node_modules node $out/bench/dashboard-idle.js [seconds=30] [--running] [--hidden] [--profile] [--no-page]
 *
 * The server is a child process (TaskAdminModule over a 2,000-row SQLite history, no
 * auth), so its CPU is its own: process.cpuUsage over the window and, with `--profile`,
 * a V8 CPU profile of the window alone (the inspector's Profiler, as `--cpu-prof` would
 * record it, but without start-up; the sampling adds CPU of its own), summarised by
 * bench/profile-summary.ts. Every request is counted
 * by route. The browser's main-thread time comes from the CDP `Performance` domain.
 * `--running` leaves one task running through the window (its row ticks); `--hidden`
 * measures the page in a background tab (hidden once the page is live, the window
 * opening 11 s later); `--no-page` measures the server with no page open, the baseline.
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as inspector from 'node:inspector';
import * as os from 'node:os';
import * as path from 'node:path';
import { BackgroundTask, TaskAdminModule, TaskManager } from '../lib';
import { openBrowserPage } from './browser-page';
import { realisticHistory, seedSqlite } from '../test/dashboard/seed';
import { summarise } from './profile-summary';

const SECONDS = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 30);
const RUNNING = process.argv.includes('--running');
const HIDDEN = process.argv.includes('--hidden');
const PROFILE = process.argv.includes('--profile');
const NO_PAGE = process.argv.includes('--no-page');

interface ServerReport {
  cpuMs: number;
  requests: Record<string, number>;
  streamBytes: number;
  profile: string;
}

type ToServer = { start: true } | { stop: true };
type FromServer = { url: string } | ServerReport;

let release: () => void = () => undefined;
const held = new Promise<void>((resolve) => (release = resolve));

@Injectable()
class IdleJobs {
  @BackgroundTask({ name: 'ReportService.generate' })
  async generate(): Promise<void> {
    await held;
  }
}

async function server(): Promise<void> {
  const db = await seedSqlite(realisticHistory(Date.now(), 2000));
  @Module({ imports: [TaskAdminModule.forRoot({ snapshotDb: db.file, shutdownGracePeriod: 0 })], providers: [IdleJobs] })
  class IdleModule {}
  const app = await NestFactory.create(IdleModule, { logger: ['error'] });
  const requests: Record<string, number> = {};
  let counting = false;
  let streamBytes = 0;
  app.use((req: { method: string; url: string }, res: { write: (...a: unknown[]) => boolean }, next: () => void) => {
    const route = `${req.method} ${req.url.split('?')[0].replace(/[0-9a-f]{8}-[0-9a-f-]{27}/, ':id')}`;
    if (counting) requests[route] = (requests[route] ?? 0) + 1;
    if (route.endsWith('/dashboard/stream')) {
      const write = res.write.bind(res);
      res.write = (chunk: unknown, ...rest: unknown[]) => {
        if (counting) streamBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Buffer).length;
        return write(chunk, ...rest);
      };
    }
    next();
  });
  await app.listen(0, '127.0.0.1');
  if (RUNNING) app.get(TaskManager).addTask(app.get(IdleJobs).generate);
  const session = new inspector.Session();
  session.connect();
  const post = <T>(method: string, params?: object) =>
    new Promise<T>((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result as T))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 1000 });
  let cpu0 = process.cpuUsage();
  process.on('message', async (message: ToServer) => {
    if ('start' in message) {
      counting = true;
      cpu0 = process.cpuUsage();
      if (PROFILE) await post('Profiler.start');
      return;
    }
    counting = false;
    const cpu = process.cpuUsage(cpu0);
    let summary = '';
    if (PROFILE) {
      const { profile } = await post<{ profile: object }>('Profiler.stop');
      const file = path.join(os.tmpdir(), `taskflow-idle-${process.pid}.cpuprofile`);
      fs.writeFileSync(file, JSON.stringify(profile));
      summary = summarise(file, 12);
    }
    const report: ServerReport = { cpuMs: (cpu.user + cpu.system) / 1000, requests, streamBytes, profile: summary };
    process.send!(report);
    release();
    await app.close();
    db.dispose();
    process.exit(0);
  });
  process.send!({ url: (await app.getUrl()).replace('[::1]', '127.0.0.1') });
}

async function main(): Promise<void> {
  const child = fork(__filename, ['server', ...process.argv.slice(2)], { stdio: 'inherit' });
  const next = () => new Promise<FromServer>((resolve) => child.once('message', (m) => resolve(m as FromServer)));
  const { url } = (await next()) as { url: string };
  const { browser, context, page, errors } = await openBrowserPage();
  try {
    await page.goto(NO_PAGE ? 'about:blank' : `${url}/tasks/dashboard`);
    if (!NO_PAGE) {
      await page.waitForSelector('body[data-ready="1"]');
      await page.waitForSelector('#live[data-state="live"]');
      await page.waitForSelector('#chart svg');
    }
    // Let start-up's requests settle before the window opens.
    await page.waitForTimeout(3000);
    if (HIDDEN) {
      // Headless Chromium keeps a background tab "visible": the page is told it is hidden,
      // as a browser would, and the window opens once its 10 s grace has passed.
      await (await context.newPage()).bringToFront();
      await page.evaluate(() => {
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
        document.dispatchEvent(new Event('visibilitychange'));
      });
      await page.waitForTimeout(11_000);
    }
    const visibility = await page.evaluate(() => document.visibilityState);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const metrics = async () => {
      const { metrics: list } = await cdp.send('Performance.getMetrics');
      return Object.fromEntries(list.map((m) => [m.name, m.value]));
    };
    const before = await metrics();
    child.send({ start: true } satisfies ToServer);
    await page.waitForTimeout(SECONDS * 1000);
    const after = await metrics();
    const reported = next();
    child.send({ stop: true } satisfies ToServer);
    const report = (await reported) as ServerReport;
    const delta = (name: string) => after[name] - before[name];
    const perMinute = 60 / SECONDS;
    const what = NO_PAGE ? 'no page open' : `one idle dashboard page (${visibility}${RUNNING ? ', one task running' : ''})`;
    console.log(`\n${what} for ${SECONDS} s; load ${os.loadavg()[0].toFixed(1)}`);
    console.log(`server: CPU ${report.cpuMs.toFixed(0)} ms; stream ${report.streamBytes} bytes`);
    const total = Object.values(report.requests).reduce((a, b) => a + b, 0);
    console.log(`requests: ${(total * perMinute).toFixed(1)} per minute`);
    for (const [route, n] of Object.entries(report.requests).sort((a, b) => b[1] - a[1]))
      console.log(`  ${route}: ${(n * perMinute).toFixed(1)}/min`);
    const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
    console.log(
      `browser main thread: tasks ${ms(delta('TaskDuration'))}, script ${ms(delta('ScriptDuration'))}, ` +
        `style ${ms(delta('RecalcStyleDuration'))} (${delta('RecalcStyleCount')}x), layout ${ms(delta('LayoutDuration'))} (${delta('LayoutCount')}x)`,
    );
    if (report.profile) console.log(`\nserver profile of the window:\n${report.profile}`);
    if (errors.length) console.log(`page errors: ${errors.join('; ')}`);
  } finally {
    await browser.close();
  }
}

void (process.argv[2] === 'server' ? server() : main());
