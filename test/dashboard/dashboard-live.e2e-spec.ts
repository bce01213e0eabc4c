/// <reference lib="dom" />
import { Injectable } from '@nestjs/common';
import type { Browser } from 'playwright-core';
import { BackgroundTask, getTaskContext, reportProgress, taskLog } from '../../lib';
import { describeBrowser, foreignHosts, launchBrowser, openPage, TrackedPage, waitReady } from '../support/browser';
import { createHttpApp, gate, HttpApp } from '../support/http-app';

/** Tasks the live dashboard tests drive. */
@Injectable()
class LiveJobs {
  @BackgroundTask({ retries: 2 })
  async flaky(label: string): Promise<void> {
    taskLog(`attempt for ${label}`);
    throw new TypeError(`bad input ${label}`);
  }

  /** Reports 40 % and waits for its gate (or cancellation). */
  @BackgroundTask({ priority: 8 })
  async report(key: string): Promise<void> {
    taskLog('starting report');
    reportProgress(0.4, 'page 4 of 10');
    const signal = getTaskContext()?.signal;
    await Promise.race([gate(key).promise, new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }))]);
  }

  /** Waits for its gate, then succeeds. */
  @BackgroundTask()
  async step(key: string): Promise<void> {
    taskLog(`waiting for ${key}`);
    await gate(key).promise;
    taskLog('done');
  }
}

describeBrowser('dashboard in a browser: live updates, details, actions (memory store)', () => {
  let h: HttpApp;
  let browser: Browser;
  const pages: TrackedPage[] = [];
  const open = async (options = {}) => {
    const tracked = await openPage(browser, options);
    pages.push(tracked);
    return tracked;
  };
  const dashboard = () => `${h.url}/tasks/dashboard`;

  beforeAll(async () => {
    [h, browser] = await Promise.all([
      createHttpApp({ title: 'Live <ops>', displayFuncArgs: true, pollInterval: 1 }, { providers: [LiveJobs] }),
      launchBrowser(),
    ]);
    for (let i = 0; i < 3; i++) await h.manager.waitFor(h.manager.addTask('Jobs.ok', [`seed ${i}`], { tags: { tenant: 'acme' } }));
  });

  afterAll(async () => {
    for (const key of ['live-1', 'live-report', 'poll-1', 'due-1']) gate(key).open();
    await browser?.close();
    await h?.close();
  });

  afterEach(() => {
    for (const tracked of pages) {
      expect(tracked.errors).toEqual([]);
    }
  });

  it('shows a task enqueued after load at the top, then updates that same row as it runs and finishes', async () => {
    const { page } = await open();
    await page.goto(dashboard());
    await waitReady(page);
    await page.waitForSelector('#live[data-state="live"]');
    expect(await page.locator('.title').textContent()).toBe('Live <ops>');
    const successBefore = Number(await page.locator('#counters [data-key="success"]').textContent());

    const id = h.manager.addTask('LiveJobs.step', ['live-1']);
    const row = page.locator(`#tasks-body tr[data-id="${id}"]`);
    await row.locator('.badge.st-running').waitFor();
    expect(await page.locator('#tasks-body tr[data-id]').first().getAttribute('data-id')).toBe(id);
    const element = await row.elementHandle();

    gate('live-1').open();
    await row.locator('.badge.st-success').waitFor();
    expect(await element!.evaluate((el) => el.isConnected)).toBe(true);
    // The `metrics` event moves the counters without a reload.
    await page.waitForFunction(
      (before) => Number(document.querySelector('#counters [data-key="success"]')!.textContent) === before + 1,
      successBefore,
    );
    expect(await page.locator('#pager-text').textContent()).toBe('1–4 of 4');
  });

  it('opens the detail panel from the keyboard with logs, retry separators, the error and the full stack trace', async () => {
    const id = h.manager.addTask('LiveJobs.flaky', ['#7']);
    await h.manager.waitFor(id);
    const { page } = await open();
    await page.goto(dashboard());
    await waitReady(page);
    const row = page.locator(`#tasks-body tr[data-id="${id}"]`);
    await row.focus();
    await page.keyboard.press('Enter');
    const panel = page.locator('#detail');
    await panel.waitFor({ state: 'visible' });
    await panel.locator('.logs').waitFor();
    expect(await panel.locator('.logs li.sep').allTextContents()).toEqual(['Retry 1', 'Retry 2']);
    expect(await panel.locator('.logs li:not(.sep) .log-msg').allTextContents()).toEqual(['attempt for #7', 'attempt for #7', 'attempt for #7']);
    expect(await panel.locator('.error-message').textContent()).toBe('TypeError: bad input #7');
    const stack = await panel.locator('pre.stack').textContent();
    expect(stack).toMatch(/^TypeError: bad input #7\n\s+at /);
    expect(await panel.locator('pre.args').textContent()).toBe('[\n  "#7"\n]');
    expect(page.url()).toContain(`task=${id}`);
    // Local time from the UTC instant, with the instant in the tooltip.
    const created = panel.locator('dl.fields time').first();
    expect(await created.getAttribute('datetime')).toMatch(/Z$/);
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-id'))).toBe(id);
    expect(page.url()).not.toContain('task=');
    // A link with ?task= opens the panel.
    await page.goto(`${dashboard()}?task=${id}`);
    await panel.locator('.error-message').waitFor();
  });

  it('cancels a running task and retries a failed one from the panel, with feedback', async () => {
    const { page } = await open();
    await page.goto(dashboard());
    await waitReady(page);
    await page.waitForSelector('#live[data-state="live"]');
    const running = h.manager.addTask('LiveJobs.report', ['live-report']);
    const row = page.locator(`#tasks-body tr[data-id="${running}"]`);
    await row.locator('.badge.st-running').waitFor();
    expect(await row.locator('.prio').textContent()).toBe('8');
    await row.click();
    const panel = page.locator('#detail');
    await panel.locator('.progress[aria-valuenow="40"]').waitFor();
    await panel.locator('#detail-cancel').click();
    await page.locator('.toast', { hasText: `Task ${running.slice(0, 8)} cancelled` }).waitFor();
    await panel.locator('.detail-status .badge.st-cancelled').waitFor();
    await row.locator('.badge.st-cancelled').waitFor();
    expect(await panel.locator('#detail-cancel').count()).toBe(0);
    expect((await h.manager.getTask(running))!.status).toBe('cancelled');

    const failed = h.manager.addTask('LiveJobs.flaky', ['retry-me']);
    await h.manager.waitFor(failed);
    await page.locator(`#tasks-body tr[data-id="${failed}"]`).click();
    await panel.locator('#detail-retry').click();
    const toast = page.locator('.toast', { hasText: 'Retry queued as' });
    await toast.waitFor();
    const newId = (await h.manager.listTasks({ funcName: 'LiveJobs.flaky', limit: 1 })).items[0].task_id;
    expect(newId).not.toBe(failed);
    expect(await toast.textContent()).toContain(newId.slice(0, 8));
    await page.locator(`#tasks-body tr[data-id="${newId}"]`).waitFor();
    await panel.locator('.actions', { hasText: `Retried as ${newId.slice(0, 8)}` }).waitFor();
    await page.locator('.toast .link', { hasText: 'Open' }).first().click();
    await page.waitForFunction((id) => location.search.includes(`task=${id}`), newId);
  });

  it('falls back to polling every pollInterval seconds when the stream is blocked, and says so', async () => {
    const { page } = await open();
    await page.route('**/dashboard/stream', (route) => route.abort());
    await page.goto(dashboard());
    await waitReady(page);
    await page.waitForSelector('#live[data-state="polling"]', { timeout: 8000 });
    expect(await page.locator('#live .live-label').textContent()).toBe('Polling');
    expect(await page.locator('#live').getAttribute('title')).toContain('every 1 s');
    const id = h.manager.addTask('LiveJobs.step', ['poll-1']);
    await page.locator(`#tasks-body tr[data-id="${id}"] .badge.st-running`).waitFor({ timeout: 5000 });
    gate('poll-1').open();
    await page.locator(`#tasks-body tr[data-id="${id}"] .badge.st-success`).waitFor({ timeout: 5000 });
    // Once the stream is reachable again the page goes live by itself.
    await page.unroute('**/dashboard/stream');
    await page.waitForSelector('#live[data-state="live"]', { timeout: 15000 });
  });

  it('pauses: changes wait, counted, and are applied on resume', async () => {
    const { page } = await open();
    await page.goto(dashboard());
    await waitReady(page);
    await page.waitForSelector('#live[data-state="live"]');
    await page.click('#pause');
    const a = h.manager.addTask('Jobs.ok', ['paused a']);
    const b = h.manager.addTask('Jobs.ok', ['paused b']);
    await h.manager.waitFor(a);
    await h.manager.waitFor(b);
    await page.waitForFunction(() => /Resume · 2 waiting/.test(document.querySelector('#pause')!.textContent!));
    expect(await page.locator(`#tasks-body tr[data-id="${a}"]`).count()).toBe(0);
    await page.click('#pause');
    await page.locator(`#tasks-body tr[data-id="${b}"] .badge.st-success`).waitFor();
    expect(await page.locator('#pause').textContent()).toBe('Pause');
  });

  it('follows the system theme until one is chosen, and remembers the choice', async () => {
    const { page } = await open({ colorScheme: 'dark' });
    await page.goto(dashboard());
    await waitReady(page);
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(await background()).toBe('rgb(15, 18, 24)');
    expect(await page.locator('#theme-toggle').getAttribute('aria-label')).toBe('Switch to light theme');
    await page.click('#theme-toggle');
    expect(await background()).toBe('rgb(245, 246, 248)');
    await page.reload();
    await waitReady(page);
    expect(await background()).toBe('rgb(245, 246, 248)');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    await page.click('#theme-toggle');
    expect(await background()).toBe('rgb(15, 18, 24)');
  });

  it("shows a waiting task's due time in its row and the detail panel, until it starts", async () => {
    const { page } = await open();
    await page.goto(dashboard());
    await waitReady(page);
    await page.waitForSelector('#live[data-state="live"]');
    const id = h.manager.addTask('LiveJobs.step', ['due-1'], { delay: 2 });
    const runAt = (await h.manager.getTask(id))!.run_at!;
    const row = page.locator(`#tasks-body tr[data-id="${id}"]`);
    await row.locator('.badge.st-pending').waitFor();
    expect(await row.locator('.c-status .due time').getAttribute('datetime')).toBe(runAt);
    expect(await row.locator('.c-status .due').textContent()).toMatch(/^due \d\d:\d\d:\d\d/);
    await row.click();
    const panel = page.locator('#detail');
    const due = panel.locator('dl.fields dt', { hasText: /^Due$/ });
    await due.waitFor();
    expect(await panel.locator('dl.fields dt:text-is("Due") + dd time').getAttribute('datetime')).toBe(runAt);

    await row.locator('.badge.st-running').waitFor({ timeout: 10_000 });
    expect(await row.locator('.due').count()).toBe(0);
    await panel.locator('dl.fields dt:text-is("Was due")').waitFor();
    gate('due-1').open();
    await row.locator('.badge.st-success').waitFor();
  });

  it('stays readable at 360 px wide: nothing overflows the viewport', async () => {
    const { page } = await open({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    await page.goto(dashboard());
    await waitReady(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.locator('#tasks-body tr[data-id]').first().click();
    await page.locator('#detail .logs, #detail .detail-id').first().waitFor();
    const box = await page.locator('#detail').boundingBox();
    expect(box!.width).toBeLessThanOrEqual(360);
  });

  it('sends no request anywhere but the local server', () => {
    const all = pages.flatMap((p) => p.requests);
    expect(all.length).toBeGreaterThan(20);
    expect(foreignHosts(all)).toEqual([]);
  });
});
