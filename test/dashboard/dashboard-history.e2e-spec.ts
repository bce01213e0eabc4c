/// <reference lib="dom" />
import { Injectable } from '@nestjs/common';
import * as fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { BackgroundTask, TaskData, TaskRecord, taskLog } from '../../lib';
import { describeBrowser, foreignHosts, launchBrowser, openPage, screenshot, TrackedPage, waitReady } from '../support/browser';
import { createHttpApp, HttpApp } from '../support/http-app';
import { realisticHistory, seedSqlite } from './seed';

/** The functions of the seeded history, registered so that replays run. */
@Injectable()
class SeededJobs {
  @BackgroundTask({ name: 'EmailService.sendWelcome', retries: 3, delay: 1, backoff: 2, priority: 5 })
  async sendWelcome(address: string): Promise<void> {
    taskLog(`sending to ${address}`);
  }

  @BackgroundTask({ name: 'BillingService.charge', retries: 2, priority: 9 })
  async charge(order: { id: number }): Promise<void> {
    taskLog(`charging order ${order.id}`);
  }

  @BackgroundTask({ name: 'WebhookService.deliver', retries: 5, delay: 2, backoff: 3, timeout: 10 })
  async deliver(hook: { id: number }): Promise<void> {
    taskLog(`delivering ${hook.id}`);
  }

  @BackgroundTask({ name: 'ImportService.importRows', persist: true })
  async importRows(batch: { id: number }): Promise<void> {
    taskLog(`importing ${batch.id}`);
  }

  @BackgroundTask({ name: 'ReportService.generate', priority: 2, requeueOnInterrupt: true })
  async generate(report: { id: number }): Promise<void> {
    taskLog(`report ${report.id}`);
  }

  @BackgroundTask({ name: 'CacheService.warm', eager: true })
  async warm(): Promise<void> {
    taskLog('warming');
  }
}

const ROWS = 2000;

describeBrowser('dashboard in a browser over a SQLite history', () => {
  let h: HttpApp;
  let browser: Browser;
  let seeded: TaskData[];
  let dispose: () => void;
  const pages: TrackedPage[] = [];
  const now = Date.now();

  const open = async (options = {}) => {
    const tracked = await openPage(browser, options);
    pages.push(tracked);
    return tracked;
  };
  const dashboard = (query = '') => `${h.url}/tasks/dashboard${query}`;
  const api = async (query: Record<string, string>) => {
    const res = await request(h.server).get('/tasks').query(query).expect(200);
    return { ids: (res.body as TaskRecord[]).map((r) => r.task_id), total: Number(res.headers['x-total-count']) };
  };
  const rowIds = (page: Page) => page.locator('#tasks-body tr[data-id]').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id!));

  beforeAll(async () => {
    seeded = realisticHistory(now, ROWS);
    const db = await seedSqlite(seeded);
    dispose = db.dispose;
    [h, browser] = await Promise.all([
      createHttpApp({ title: 'Acme production', snapshotDb: db.file, pollInterval: 5 }, { providers: [SeededJobs] }),
      launchBrowser(),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    dispose?.();
  });

  // Each test's pages are closed after it (their requests stay recorded for the last test): pages
  // left open kept their live streams and refreshes running through every later test.
  const closed = new Set<TrackedPage>();
  afterEach(async () => {
    for (const tracked of pages) expect(tracked.errors).toEqual([]);
    for (const tracked of pages) if (!closed.has(tracked)) await tracked.close().then(() => closed.add(tracked));
  });

  it('renders the overview, the table and the panels (screenshots in docs/)', async () => {
    const { page } = await open();
    await page.goto(dashboard());
    await waitReady(page);
    await page.waitForSelector('#fn-body tr:not(.placeholder)');
    await page.waitForSelector('#chart svg');
    expect(await page.locator('#counters [data-key="total"]').textContent()).toBe('2,000');
    expect(await page.locator('#pager-text').textContent()).toBe('1–50 of 2,000');
    expect(await page.locator('#fn-body tr').count()).toBe(6);
    const scheduled = seeded.filter((t) => t.source === 'scheduled').length;
    expect(scheduled).toBeGreaterThan(0);
    await screenshot(page, 'dashboard-overview.png');

    const failed = page.locator('#tasks-body tr[data-id]', { has: page.locator('.badge.st-failed') }).first();
    await failed.click();
    await page.locator('#detail .stack').waitFor();
    await page.locator('#detail .runs').waitFor();
    await screenshot(page, 'dashboard-detail.png');
    await page.keyboard.press('Escape');

    await page.click('#tab-dead');
    await page.locator('#dl-body tr[data-signature]').first().waitFor();
    await screenshot(page, 'dashboard-dead-letters.png');

    await page.click('#tab-registered');
    await page.locator('.reg-card').first().waitFor();
    expect(await page.locator('.reg-card h3').allTextContents()).toEqual([
      'BillingService.charge',
      'CacheService.warm',
      'EmailService.sendWelcome',
      'ImportService.importRows',
      'Jobs.chatty',
      'Jobs.fail',
      'Jobs.hold',
      'Jobs.ok',
      'ReportService.generate',
      'WebhookService.deliver',
    ]);
    expect(await page.locator('.reg-card', { hasText: 'WebhookService.deliver' }).locator('.pill').allTextContents()).toEqual([
      '5 retries',
      '2 s delay',
      '×3 back-off',
      '10 s timeout',
    ]);
    await page.click('#tab-schedules');
    await page.locator('#sched-body .placeholder', { hasText: 'No scheduled tasks yet' }).waitFor();

    const dark = await open({ colorScheme: 'dark' });
    await dark.page.goto(dashboard());
    await waitReady(dark.page);
    await dark.page.waitForSelector('#fn-body tr:not(.placeholder)');
    await screenshot(dark.page, 'dashboard-dark.png');

    const mobile = await open({ viewport: { width: 360, height: 780 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await mobile.page.goto(dashboard());
    await waitReady(mobile.page);
    await mobile.page.waitForSelector('#fn-body tr:not(.placeholder)');
    expect(await mobile.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await screenshot(mobile.page, 'dashboard-mobile.png');
    await mobile.page.locator('.tabs').evaluate((el) => window.scrollTo(0, (el as HTMLElement).offsetTop - 8));
    await screenshot(mobile.page, 'dashboard-mobile-table.png');
    await mobile.page.locator('#tasks-body tr[data-id]').first().click();
    await mobile.page.locator('#detail .runs').waitFor();
    await screenshot(mobile.page, 'dashboard-mobile-detail.png');
  });

  it('keeps the filters in the URL: a link reproduces the view, back and forward restore it', async () => {
    const query = { status: 'failed', func_name: 'BillingService.charge', since: '24h', sort: '-duration' };
    const { page } = await open();
    await page.goto(dashboard(`?${new URLSearchParams(query)}`));
    await waitReady(page);
    expect(await page.locator('#f-status').inputValue()).toBe('failed');
    expect(await page.locator('#f-func').inputValue()).toBe('BillingService.charge');
    expect(await page.locator('#f-since').inputValue()).toBe('24h');
    expect(await page.locator('#tasks th[data-sort="duration"]').getAttribute('aria-sort')).toBe('descending');
    const expected = await api({ ...query, limit: '50' });
    expect(expected.total).toBeGreaterThan(5);
    expect(await rowIds(page)).toEqual(expected.ids);
    expect(await page.locator('#pager-text').textContent()).toBe(`1–${expected.total} of ${expected.total}`);

    await page.fill('#f-search', 'ending 1');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('search') === 'ending 1');
    const searched = await api({ ...query, search: 'ending 1', limit: '50' });
    await page.waitForFunction((n) => document.querySelectorAll('#tasks-body tr[data-id]').length === n, searched.ids.length);
    expect(await rowIds(page)).toEqual(searched.ids);

    await page.selectOption('#f-status', 'success');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('status') === 'success');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#tasks-body tr[data-id] .c-status .badge')].every((b) => b.textContent === 'success'),
    );

    await page.goBack();
    await page.waitForFunction(() => (document.querySelector('#f-status') as HTMLSelectElement).value === 'failed');
    await page.waitForFunction(
      (ids) =>
        JSON.stringify([...document.querySelectorAll('#tasks-body tr[data-id]')].map((r) => (r as HTMLElement).dataset.id)) === JSON.stringify(ids),
      searched.ids,
    );

    const link = page.url();
    const other = await open();
    await other.page.goto(link);
    await waitReady(other.page);
    expect(await rowIds(other.page)).toEqual(searched.ids);
    expect(await other.page.locator('#f-search').inputValue()).toBe('ending 1');
  });

  it('sorts and pages on the server', async () => {
    const { page } = await open();
    await page.goto(dashboard());
    await waitReady(page);
    await page.click('#tasks th[data-sort="func_name"] .sort');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('sort') === 'func_name');
    const byName = await api({ sort: 'func_name', limit: '50' });
    await page.waitForFunction((first) => document.querySelector('#tasks-body tr[data-id]')?.getAttribute('data-id') === first, byName.ids[0]);
    expect(await rowIds(page)).toEqual(byName.ids);
    await page.click('#tasks th[data-sort="func_name"] .sort');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('sort') === '-func_name');
    await page.click('#next');
    await page.waitForFunction(() => document.querySelector('#pager-text')?.textContent === '51–100 of 2,000');
    expect(page.url()).toContain('page=2');
    expect(await rowIds(page)).toEqual((await api({ sort: '-func_name', limit: '50', offset: '50' })).ids);
    const load = await page.evaluate(() => performance.getEntriesByName('tf-table-load').map((e) => e.duration));
    expect(load.length).toBeGreaterThanOrEqual(3);
  });

  it('exports the current filter as CSV', async () => {
    const { page } = await open({ acceptDownloads: true });
    await page.goto(dashboard('?status=failed&func_name=WebhookService.deliver'));
    await waitReady(page);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const text = fs.readFileSync((await download.path())!, 'utf8');
    const lines = text.split('\r\n').filter(Boolean);
    const { total } = await api({ status: 'failed', func_name: 'WebhookService.deliver', limit: '1' });
    expect(lines).toHaveLength(total + 1);
    expect(lines[0]).toMatch(/^task_id,func_name,status,/);
    expect(lines.slice(1).every((l) => l.includes(',WebhookService.deliver,failed,'))).toBe(true);
    expect(download.suggestedFilename()).toMatch(/^tasks-.*\.csv$/);
  });

  it('groups dead letters by error signature, replays a selected group and a window, after confirmation', async () => {
    const { page } = await open();
    await page.goto(dashboard('?tab=dead&dl_since=7d'));
    await waitReady(page);
    const rows = page.locator('#dl-body tr[data-signature]');
    await rows.first().waitFor();
    const signatures = await rows.evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.signature));
    expect(signatures).toContain('CardDeclinedError: card ending <n> was declined for order #<n>');
    expect(signatures).toContain('FetchError: connect ETIMEDOUT <ip>');
    expect(signatures).toContain('ValidationError: row <n> of batch <n>: email is required');
    const cards = seeded.filter((t) => t.status === 'failed' && t.funcName === 'BillingService.charge');
    const group = page.locator('#dl-body tr[data-signature^="CardDeclinedError"]');
    expect(await group.locator('td.num').textContent()).toBe(String(cards.length));

    const before = (await api({ func_name: 'BillingService.charge', limit: '1' })).total;
    await group.locator('input[type="checkbox"]').check();
    expect(await page.locator('#dl-replay-selected').textContent()).toBe(`Replay selected (${cards.length})`);
    await page.click('#dl-replay-selected');
    await page.locator('#confirm[open]').waitFor();
    expect(await page.locator('#confirm-text').textContent()).toContain(`Run ${cards.length} tasks again`);
    await page.click('#confirm-ok');
    await page.locator('.toast', { hasText: `Replayed ${cards.length} tasks` }).waitFor();
    await h.manager.drain();
    expect((await api({ func_name: 'BillingService.charge', limit: '1' })).total).toBe(before + cards.length);

    // Cancelling the confirmation does nothing.
    await page.selectOption('#dl-since', '1h');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('dl_since') === '1h');
    await page.click('#dl-replay-window');
    await page.locator('#confirm[open]').waitFor();
    expect(await page.locator('#confirm-text').textContent()).toContain('created in the last hour');
    await page.keyboard.press('Escape');
    await page.locator('#confirm:not([open])').waitFor({ state: 'attached' });
    // The window ends at the server's clock when the button is pressed, seconds after the
    // seeding: counted from the seed's own clock, a task created at the edge of the hour
    // was in the test's window and not in the server's (a flaky count under load).
    // So the count comes from the server, just before the press.
    const inLastHour = async (query: Record<string, string>) => (await api({ ...query, since: '1h', limit: '1' })).total;
    const inWindow = (await inLastHour({ status: 'failed' })) + (await inLastHour({ status: 'interrupted' }));
    const replayedCards = await inLastHour({ status: 'failed', func_name: 'BillingService.charge' });
    expect(replayedCards).toBeGreaterThan(0);
    await page.click('#dl-replay-window');
    await page.click('#confirm-ok');
    // Tasks replayed a moment ago are skipped.
    await page.locator('.toast', { hasText: `Replayed ${inWindow - replayedCards} tasks` }).waitFor();
  });

  it('retries every task matching the filter after confirming the server-side count', async () => {
    const { page } = await open();
    await page.goto(dashboard('?status=failed&func_name=WebhookService.deliver&size=25'));
    await waitReady(page);
    const { total } = await api({ status: 'failed', func_name: 'WebhookService.deliver', limit: '1' });
    const before = (await api({ func_name: 'WebhookService.deliver', limit: '1' })).total;
    expect(total).toBeGreaterThan(25);
    await page.check('#select-page');
    await page.click('#bulk-all');
    expect(await page.locator('#bulk-text').textContent()).toBe(`All ${total} matching tasks selected`);
    await page.click('#bulk-retry');
    await page.locator('#confirm[open]').waitFor();
    expect(await page.locator('#confirm-title').textContent()).toBe(`Retry ${total} tasks?`);
    await page.click('#confirm-ok');
    await page.locator('.toast', { hasText: `Retried ${total} tasks` }).waitFor();
    await h.manager.drain();
    expect((await api({ func_name: 'WebhookService.deliver', limit: '1' })).total).toBe(before + total);
  });

  it('clears history older than a window after confirmation', async () => {
    const { page } = await open();
    await page.goto(dashboard());
    await waitReady(page);
    const old = seeded.filter((t) => (t.endTime ?? t.createdAt) < Date.now() - 2 * 86_400_000).length;
    expect(old).toBeGreaterThan(0);
    await page.click('#clear-history');
    await page.locator('#confirm[open]').waitFor();
    await page.fill('#confirm-extra input', '2');
    await page.selectOption('#confirm-extra select', 'day');
    await page.click('#confirm-ok');
    await page.locator('.toast', { hasText: `Deleted ${old} tasks` }).waitFor();
  });

  it('sends no request anywhere but the local server', () => {
    const all = pages.flatMap((p) => p.requests);
    expect(foreignHosts(all)).toEqual([]);
  });
});
