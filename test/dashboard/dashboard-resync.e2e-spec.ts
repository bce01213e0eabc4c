/// <reference lib="dom" />
import type { Browser, Request } from 'playwright-core';
import { describeBrowser, launchBrowser, openPage, TrackedPage, waitReady } from '../support/browser';
import { createHttpApp, gate, HttpApp, startHeld } from '../support/http-app';

/** Resolves once `count` requests matching `matches` were sent by the page. */
function requestsSeen(tracked: TrackedPage, matches: (request: Request) => boolean, count: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    tracked.page.on('request', (request) => {
      if (matches(request) && ++seen === count) resolve();
    });
  });
}

describeBrowser('dashboard and a first batch cut short', () => {
  let h: HttpApp;
  let browser: Browser;

  beforeAll(async () => {
    [h, browser] = await Promise.all([createHttpApp({ streamFirstBatchSize: 2 }), launchBrowser()]);
    for (let i = 0; i < 5; i++) await startHeld(h.manager, 'resync-held');
  });

  afterAll(async () => {
    gate('resync-held').open();
    await browser?.close();
    await h?.close();
  });

  it('reads the table again when the stream sends resync', async () => {
    const tracked = await openPage(browser);
    const isList = (request: Request) => new URL(request.url()).pathname === '/tasks';
    // At start-up, once the stream is open (what changed in between), and for the resync that follows the two tasks of the first batch.
    const refreshed = requestsSeen(tracked, isList, 3);
    await tracked.page.goto(`${h.url}/tasks/dashboard`);
    await waitReady(tracked.page);
    await tracked.page.waitForSelector('#live[data-state="live"]');
    await refreshed;
    expect(await tracked.page.locator('#tasks-body tr[data-id] .badge.st-running').count()).toBe(5);
    expect(tracked.errors).toEqual([]);
    await tracked.close();
  });
});
