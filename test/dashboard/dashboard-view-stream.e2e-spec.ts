/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import { TaskEventHub } from '../../lib/stream/task-event-hub';
import { describeBrowser, launchBrowser, openPage, TrackedPage, waitReady } from '../support/browser';
import { createHttpApp, gate, HttpApp, startHeld } from '../support/http-app';

/** The page believes its tab hidden (or shown again): what a background tab sees. */
function setHidden(page: Page, hidden: boolean): Promise<void> {
  return page.evaluate((value) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => value });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (value ? 'hidden' : 'visible') });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

describeBrowser('dashboard in a browser: the view stream, and what an idle page costs', () => {
  let h: HttpApp;
  let browser: Browser;
  const pages: TrackedPage[] = [];
  const open = async () => {
    const tracked = await openPage(browser);
    pages.push(tracked);
    return tracked;
  };
  const dashboard = (query = '') => `${h.url}/tasks/dashboard${query}`;
  /** A page whose timers run on a clock the test moves, open and live. */
  const openOnClock = async () => {
    const tracked = await open();
    await tracked.page.clock.install();
    await tracked.page.goto(dashboard());
    await waitReady(tracked.page);
    await tracked.page.waitForSelector('#live[data-state="live"]');
    return tracked;
  };
  const streams = (tracked: TrackedPage) => tracked.requests.filter((url) => new URL(url).pathname === '/tasks/dashboard/stream');
  /** Resolves once the hub has exactly `count` streams open (they close asynchronously). */
  const streamsOpen = async (count: number) => {
    const hub = h.app.get(TaskEventHub);
    const deadline = Date.now() + 5000;
    while (hub.stats.clients !== count) {
      if (Date.now() > deadline) throw new Error(`${hub.stats.clients} streams open, not ${count}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  beforeAll(async () => {
    [h, browser] = await Promise.all([createHttpApp({ pollInterval: 1 }), launchBrowser()]);
    await h.manager.waitFor(h.manager.addTask('Jobs.ok', ['seed']));
  });
  afterAll(async () => {
    gate('view-leaves').open();
    await browser?.close();
    await h?.close();
  });
  afterEach(async () => {
    for (const tracked of pages.splice(0)) {
      expect(tracked.errors).toEqual([]);
      await tracked.close();
    }
  });

  it("asks for the page's view (filters, detail task), one stream at a time, and a row leaving the filter keeps its true state", async () => {
    const tracked = await open();
    const { page } = tracked;
    await page.goto(dashboard('?status=running'));
    await waitReady(page);
    await page.waitForSelector('#live[data-state="live"]');
    expect(new URL(streams(tracked)[0]).search).toBe('?view=1&status=running');

    const id = await startHeld(h.manager, 'view-leaves');
    const row = page.locator(`#tasks-body tr[data-id="${id}"]`);
    await row.locator('.badge.st-running').waitFor();
    gate('view-leaves').open();
    // No longer running: still sent to this page, so the row shows it finished (dimmed: it left the filter).
    await row.locator('.badge.st-success').waitFor();
    expect(await row.getAttribute('class')).toContain('stale');

    await row.click();
    await page.waitForFunction((task) => document.querySelector('#detail-title')?.textContent?.includes(task.slice(0, 8)), id);
    await page.waitForFunction(() => document.querySelector('#live')?.getAttribute('data-state') === 'live');
    await page.selectOption('#f-status', 'failed');
    await page.locator('#tasks-body tr.placeholder').waitFor();
    const urls = streams(tracked).map((url) => new URL(url).search);
    expect(urls).toContain(`?view=1&status=running&task=${id}`);
    expect(urls.at(-1)).toBe(`?view=1&status=failed&task=${id}`);
    await streamsOpen(1);
  });

  it('has no endless animation and sends no request while nothing changes, also with a task running', async () => {
    const held = await startHeld(h.manager, 'idle-running');
    const tracked = await openOnClock();
    const { page } = tracked;
    await page.waitForSelector('#chart svg');
    await page.locator(`#tasks-body tr[data-id="${held}"] .badge.st-running`).waitFor();
    await page.waitForFunction(() => !document.querySelector('[aria-busy]'));
    const before = tracked.requests.length;
    // Three minutes of the page's clock: the chart's minute, the functions' 15 s, the running row's tick.
    await page.clock.runFor(180_000);
    expect(tracked.requests.slice(before)).toEqual([]);
    const endless = await page.evaluate(() => document.getAnimations().filter((a) => a.effect?.getComputedTiming().iterations === Infinity).length);
    expect(endless).toBe(0);
    gate('idle-running').open();
    await h.manager.waitFor(held);
  });

  it('lets the stream go while the tab is hidden, and catches up when it is shown', async () => {
    const { page } = await openOnClock();
    await streamsOpen(1);
    await setHidden(page, true);
    await page.clock.runFor(11_000);
    await page.waitForSelector('#live[data-state="asleep"]');
    await streamsOpen(0);
    const id = h.manager.addTask('Jobs.ok', ['while hidden']);
    await h.manager.waitFor(id);
    await setHidden(page, false);
    await page.waitForSelector('#live[data-state="live"]');
    await page.locator(`#tasks-body tr[data-id="${id}"] .badge.st-success`).waitFor();
  });
});
