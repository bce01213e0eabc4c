/// <reference lib="dom" />
/**
 * By-hand measurement (not a test) of the dashboard over a large SQLite history,
 * in Debian's Chromium driven by playwright-core.
 *
 *   out=node_modules/.cache/taskflow-dashboard-bench && rm -rf $out && \
 *   npx tsc --ignoreConfig --outDir $out --rootDir . --module commonjs --target ES2022 \
 *     --esModuleInterop --experimentalDecorators --emitDecoratorMetadata --skipLibCheck \
 *     --types node bench/dashboard-scale.ts && \
 *   node scripts/build-dashboard.mjs --copy $out/lib/dashboard/assets && \
 *   node $out/bench/dashboard-scale.js [rows]
 *
 * (Built under node_modules/.cache so it is never committed and finds the packages.)
 *
 * Writes `rows` (default 1,000,000) finished tasks, spread over the last 7 days, into a
 * temp SQLite file through the backend's saveBatch; starts an app on it (TaskAdminModule,
 * snapshotDb) on 127.0.0.1; then, in the browser:
 * - cold load (empty cache) and warm loads: navigation timing, and the page's own marks
 *   `tf-first-table` (first table page rendered) and `tf-interactive` (handlers bound,
 *   table rendered): "interactive";
 * - a page of the table: `tf-table-load` (request sent → rows in the DOM) for Next-page
 *   clicks, for each sort, and for the filters;
 * - the dashboard's read routes, timed with fetch() from the page.
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { BackgroundTask, TaskAdminModule, TaskData } from '../lib';
import { sqliteOptions, TypeOrmTaskBackend } from '../lib/persistence/typeorm';
import { openBrowserPage } from './browser-page';
import { PROFILES, taskData } from '../test/dashboard/seed';
import { prng } from '../test/support/prng';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const BATCH = 10_000;
const WEEK = 7 * 24 * 3_600_000;

@Injectable()
class BenchJobs {
  @BackgroundTask({ name: 'EmailService.sendWelcome' }) async a(): Promise<void> {}
  @BackgroundTask({ name: 'BillingService.charge' }) async b(): Promise<void> {}
  @BackgroundTask({ name: 'WebhookService.deliver' }) async c(): Promise<void> {}
  @BackgroundTask({ name: 'ImportService.importRows' }) async d(): Promise<void> {}
  @BackgroundTask({ name: 'ReportService.generate' }) async e(): Promise<void> {}
  @BackgroundTask({ name: 'CacheService.warm' }) async f(): Promise<void> {}
}

function batchOf(start: number, count: number, now: number, rand: () => number): TaskData[] {
  const weights = PROFILES.reduce((n, p) => n + p.weight, 0);
  const tasks: TaskData[] = [];
  for (let i = 0; i < count; i++) {
    let r = rand() * weights;
    const p = PROFILES.find((x) => (r -= x.weight) < 0) ?? PROFILES[0];
    const createdAt = Math.round(now - 30_000 - rand() * WEEK);
    const durationMs = Math.round(p.minMs * (p.maxMs / p.minMs) ** rand());
    const failed = rand() < p.failRate;
    const n = start + i;
    const error = failed ? p.errors[n % p.errors.length](n) : null;
    tasks.push(
      taskData({
        funcName: p.name,
        status: failed ? 'failed' : 'success',
        createdAt,
        startTime: createdAt + 10,
        endTime: createdAt + 10 + durationMs,
        error,
        stacktrace: error ? `${error}\n    at ${p.name} (src/app.ts:10:5)` : null,
        retriesUsed: failed ? 2 : 0,
        logs: ['2026-01-01T00:00:00 started', '2026-01-01T00:00:01 working', '2026-01-01T00:00:02 done'],
        tags: { tenant: `t${n % 50}` },
        source: p.scheduled ? 'scheduled' : 'manual',
        priority: p.priority,
        args: [{ id: n }],
      }),
    );
  }
  return tasks;
}

function stats(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return `median ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms (n=${s.length})`;
}

async function seed(file: string, now: number): Promise<void> {
  const backend = new TypeOrmTaskBackend(sqliteOptions(file));
  await backend.open();
  const rand = prng(7);
  const started = Date.now();
  for (let i = 0; i < ROWS; i += BATCH) {
    await backend.saveBatch(batchOf(i, Math.min(BATCH, ROWS - i), now, rand));
    if ((i / BATCH) % 20 === 0) process.stdout.write(`\r  seeded ${(i + BATCH).toLocaleString()} rows`);
  }
  await backend.close();
  console.log(
    `\r  seeded ${ROWS.toLocaleString()} rows in ${((Date.now() - started) / 1000).toFixed(0)} s; file ${(fs.statSync(file).size / 1e6).toFixed(0)} MB`,
  );
}

async function loadTimes(
  page: Page,
): Promise<{ responseEnd: number; domContentLoaded: number; firstTable: number; interactive: number; load: number }> {
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const mark = (name: string) => performance.getEntriesByName(name)[0]?.startTime ?? NaN;
    return {
      responseEnd: nav.responseEnd,
      domContentLoaded: nav.domContentLoadedEventEnd,
      load: nav.loadEventEnd,
      firstTable: mark('tf-first-table'),
      interactive: mark('tf-interactive'),
    };
  });
}

/** Duration of the last table load (request sent → rows rendered) after `action`. */
async function tableLoad(page: Page, action: () => Promise<unknown>): Promise<number> {
  const before = await page.evaluate(() => performance.getEntriesByName('tf-table-load').length);
  await action();
  await page.waitForFunction((n) => performance.getEntriesByName('tf-table-load').length > n, before, { timeout: 30_000 });
  return page.evaluate(() => {
    const entries = performance.getEntriesByName('tf-table-load');
    return entries[entries.length - 1].duration;
  });
}

/** Opens a view and returns its first table load. */
async function viewLoad(page: Page, url: string): Promise<number> {
  await page.goto(url);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
  return page.evaluate(() => performance.getEntriesByName('tf-table-load')[0].duration);
}

async function fetchTime(page: Page, url: string, runs = 5): Promise<number[]> {
  return page.evaluate(
    async ({ url, runs }) => {
      const out: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        const res = await fetch(url);
        await res.text();
        out.push(performance.now() - t0);
      }
      return out;
    },
    { url, runs },
  );
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskflow-dash-bench-'));
  const file = path.join(dir, 'history.db');
  const now = Date.now();
  console.log(`SQLite ${file}: ${ROWS.toLocaleString()} tasks over the last 7 days`);
  await seed(file, now);

  @Module({ imports: [TaskAdminModule.forRoot({ snapshotDb: file, title: 'Bench', shutdownGracePeriod: 0 })], providers: [BenchJobs] })
  class BenchModule {}
  const app = await NestFactory.create(BenchModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const dashboard = `${base}/tasks/dashboard`;

  const { browser, page, errors } = await openBrowserPage();
  try {
    await page.goto(dashboard);
    const cold = await loadTimes(page);
    console.log(
      `\ncold load (empty cache): response ${cold.responseEnd.toFixed(0)} ms, DOMContentLoaded ${cold.domContentLoaded.toFixed(0)} ms, ` +
        `first table ${cold.firstTable.toFixed(0)} ms, interactive ${cold.interactive.toFixed(0)} ms, load ${cold.load.toFixed(0)} ms`,
    );

    const warm: { firstTable: number; interactive: number; domContentLoaded: number }[] = [];
    for (let i = 0; i < 10; i++) {
      await page.reload();
      warm.push(await loadTimes(page));
    }
    console.log(`warm loads: interactive ${stats(warm.map((w) => w.interactive))}`);
    console.log(`            first table ${stats(warm.map((w) => w.firstTable))}; DOMContentLoaded ${stats(warm.map((w) => w.domContentLoaded))}`);

    const pages: number[] = [];
    for (let i = 0; i < 20; i++) pages.push(await tableLoad(page, () => page.click('#next')));
    console.log(`\na page of the table (Next, 50 rows, request → rendered): ${stats(pages)}`);
    const deep: number[] = [];
    for (const p of [100, 1000, 5000]) deep.push(await viewLoad(page, `${dashboard}?page=${p}`));
    console.log(`  pages 100 / 1,000 / 5,000 (offset 250k): ${deep.map((d) => d.toFixed(1)).join(' / ')} ms`);

    const views: [string, string][] = [
      ['status=failed', '?status=failed'],
      ['func_name', '?func_name=BillingService.charge'],
      ['func_name + status=failed', '?func_name=WebhookService.deliver&status=failed'],
      ['since=1h', '?since=1h'],
      ['since=24h', '?since=24h'],
      ['sort=created_at (oldest first)', '?sort=created_at'],
      ['sort=-status', '?sort=-status'],
      ['sort=status', '?sort=status'],
      ['sort=func_name', '?sort=func_name'],
      ['sort=-duration (no index: full sort)', '?sort=-duration'],
      ['search=declined (full scan)', '?search=declined'],
    ];
    console.log('\nfirst page of a view (request → rendered, median of 3):');
    for (const [label, query] of views) {
      const samples: number[] = [];
      for (let i = 0; i < 3; i++) samples.push(await viewLoad(page, `${dashboard}${query}`));
      samples.sort((a, b) => a - b);
      console.log(`  ${label.padEnd(40)} ${samples[1].toFixed(1)} ms`);
    }

    console.log('\nread routes (fetch from the page, 5 runs):');
    for (const route of [
      '?limit=50',
      '/metrics',
      '/insights/throughput?minutes=60',
      '/insights/functions',
      '/insights/dead-letters?since=7d',
      '/insights/dead-letters?since=1h',
    ]) {
      console.log(`  GET /tasks${route.padEnd(36)} ${stats(await fetchTime(page, `${base}/tasks${route}`))}`);
    }
    console.log(`\npage errors: ${errors.length ? errors.join('; ') : 'none'}`);
  } finally {
    await browser.close();
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
