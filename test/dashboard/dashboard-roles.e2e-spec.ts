/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import { describeBrowser, launchBrowser, openPage, TrackedPage, waitReady } from '../support/browser';
import { createHttpApp, HttpApp } from '../support/http-app';

type Role = 'viewer' | 'operator' | 'admin';

/** What each role is offered: the API refuses the rest with 403. */
const OFFERED: Record<Role, { operate: boolean; administer: boolean }> = {
  viewer: { operate: false, administer: false },
  operator: { operate: true, administer: false },
  admin: { operate: true, administer: true },
};

describeBrowser('dashboard shows only what the role may do', () => {
  let h: HttpApp;
  let browser: Browser;
  let failedId: string;
  const pages: TrackedPage[] = [];

  beforeAll(async () => {
    [h, browser] = await Promise.all([
      createHttpApp({
        auth: [
          ['vera', 'view-pw', 'viewer'],
          ['otto', 'operate-pw', 'operator'],
          ['ada', 'admin-pw', 'admin'],
        ],
        secretKey: 'dashboard-roles-secret',
      }),
      launchBrowser(),
    ]);
    failedId = h.manager.addTask('Jobs.fail', ['for the roles']);
    await h.manager.waitFor(failedId);
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  afterEach(() => {
    for (const tracked of pages) expect(tracked.errors).toEqual([]);
  });

  async function signIn(username: string, password: string): Promise<Page> {
    const tracked = await openPage(browser);
    pages.push(tracked);
    const { page } = tracked;
    await page.goto(`${h.url}/tasks/auth/login`);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await Promise.all([page.waitForURL(/\/tasks\/dashboard$/), page.click('button[type="submit"]')]);
    await waitReady(page);
    return page;
  }

  it.each([
    ['viewer', 'vera', 'view-pw'],
    ['operator', 'otto', 'operate-pw'],
    ['admin', 'ada', 'admin-pw'],
  ] as const)('signed in as %s', async (role: Role, username: string, password: string) => {
    const page = await signIn(username, password);
    const offered = OFFERED[role];
    expect(await page.evaluate(() => document.body.dataset.role)).toBe(role);
    expect(await page.locator('#clear-history').isVisible()).toBe(offered.administer);

    // Selecting a row shows the bulk bar: with retry and cancel only for those who may.
    await page.locator(`#tasks-body tr[data-id="${failedId}"] .row-select`).check();
    await page.locator('#bulkbar').waitFor();
    expect(await page.locator('#bulk-retry').isVisible()).toBe(offered.operate);
    expect(await page.locator('#bulk-cancel').isVisible()).toBe(offered.operate);

    // The detail panel of a failed task: its fields for everyone, the retry button for those who may.
    await page.locator(`#tasks-body tr[data-id="${failedId}"] td.c-status`).click();
    await page.locator('#detail .detail-status .badge.st-failed').waitFor();
    expect(await page.locator('#detail-retry').count()).toBe(offered.operate ? 1 : 0);
    await page.keyboard.press('Escape');

    // Dead letters: replaying is retrying.
    await page.click('#tab-dead');
    await page.locator('#panel-dead').waitFor();
    expect(await page.locator('#dl-replay-window').isVisible()).toBe(offered.operate);
    expect(await page.locator('#dl-replay-selected').isVisible()).toBe(offered.operate);

    // Registered: pause and resume a function, for those who may.
    await page.click('#tab-registered');
    const card = page.locator('#reg-body .reg-card[data-name="Jobs.ok"]');
    await card.waitFor();
    expect(await card.locator('button', { hasText: 'Pause' }).count()).toBe(offered.operate ? 1 : 0);
    if (!offered.operate) return;
    await card.locator('button', { hasText: 'Pause' }).click();
    await page.locator('#reg-body .reg-card[data-name="Jobs.ok"] .pill-paused').waitFor();
    expect(h.manager.isPaused('Jobs.ok')).toBe(true);
    await page.locator('#reg-body .reg-card[data-name="Jobs.ok"] button', { hasText: 'Resume' }).click();
    await page.locator('#reg-body .reg-card[data-name="Jobs.ok"] button', { hasText: 'Pause' }).waitFor();
    expect(h.manager.isPaused('Jobs.ok')).toBe(false);
  });
});
