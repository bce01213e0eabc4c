/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { describeBrowser, foreignHosts, launchBrowser, openPage, screenshot, TrackedPage, waitReady } from '../support/browser';
import { createHttpApp, gate, HttpApp, startHeld } from '../support/http-app';
import { HTTP_PLATFORMS } from '../support/http-platforms';

/** One browser for the file; the sign-in flow runs against an app on each platform in turn. */
describeBrowser('dashboard in a browser with auth on', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(() => browser?.close());

  describe.each(HTTP_PLATFORMS)('on %s', (platform) => {
    let h: HttpApp;
    const pages: TrackedPage[] = [];
    const open = async (options = {}) => {
      const tracked = await openPage(browser, options);
      pages.push(tracked);
      return tracked;
    };

    beforeAll(async () => {
      h = await createHttpApp({ title: 'Acme <production>', auth: ['admin', 's3cret'], secretKey: 'dashboard-test-secret' }, { platform });
      await h.manager.waitFor(h.manager.addTask('Jobs.ok', ['before login']));
    });

    afterAll(async () => {
      gate(`auth-held-${platform}`).open();
      await Promise.all(pages.map((tracked) => tracked.close()));
      await h?.close();
    });

    afterEach(() => {
      for (const tracked of pages) expect(tracked.errors).toEqual([]);
    });

    it('redirects to the login page, refuses a wrong password, signs in and lands on the dashboard', async () => {
      const { page } = await open();
      await page.goto(`${h.url}/tasks/dashboard?status=success`);
      expect(new URL(page.url()).pathname).toBe('/tasks/auth/login');
      expect(await page.locator('h1').textContent()).toBe('Acme <production>');
      if (platform === 'express') await screenshot(page, 'login.png');

      await page.fill('#username', 'admin');
      await page.fill('#password', 'wrong');
      await page.click('button[type="submit"]');
      await page.locator('.error', { hasText: 'Invalid username or password' }).waitFor();
      expect(await page.locator('#username').inputValue()).toBe('admin');

      await page.fill('#password', 's3cret');
      await Promise.all([page.waitForURL(/\/tasks\/dashboard$/), page.click('button[type="submit"]')]);
      await waitReady(page);
      await page.waitForSelector('#live[data-state="live"]');
      expect(await page.locator('#signout').isVisible()).toBe(true);
      expect(await page.locator('#tab-audit').isVisible()).toBe(true);
      expect(await page.locator('#tasks-body tr[data-id]').count()).toBe(1);
    });

    it('records actions in the audit tab under the signed-in user, and signs out', async () => {
      const { page, context } = await open();
      await page.goto(`${h.url}/tasks/auth/login`);
      await page.fill('#username', 'admin');
      await page.fill('#password', 's3cret');
      await Promise.all([page.waitForURL(/\/tasks\/dashboard$/), page.click('button[type="submit"]')]);
      await waitReady(page);
      await page.waitForSelector('#live[data-state="live"]');

      const held = await startHeld(h.manager, `auth-held-${platform}`);
      await page.locator(`#tasks-body tr[data-id="${held}"] .badge.st-running`).waitFor();
      await page.locator(`#tasks-body tr[data-id="${held}"]`).click();
      await page.click('#detail-cancel');
      await page.locator('#detail .detail-status .badge.st-cancelled').waitFor();
      await page.keyboard.press('Escape');

      await page.click('#tab-audit');
      const row = page.locator('#audit-body tr', { hasText: 'cancel' }).first();
      await row.waitFor();
      expect(await row.locator('td').nth(3).textContent()).toBe('admin');
      expect(await row.locator('td').nth(2).textContent()).toBe(held.slice(0, 8));
      expect(await row.locator('td').nth(4).textContent()).toBe('previous_status: running, role: admin'); // the actor's role is part of the audit detail

      // A session that ends sends the next API call's page to the login form.
      await context.clearCookies();
      await page.click('#tab-tasks');
      await page.click('#tasks th[data-sort="status"] .sort');
      await page.waitForURL(/\/tasks\/auth\/login$/);

      await page.goto(`${h.url}/tasks/auth/login`);
      await page.fill('#username', 'admin');
      await page.fill('#password', 's3cret');
      await Promise.all([page.waitForURL(/\/tasks\/dashboard$/), page.click('button[type="submit"]')]);
      await waitReady(page);
      await Promise.all([page.waitForURL(/\/tasks\/auth\/login$/), page.click('#signout')]);
      await page.goto(`${h.url}/tasks/dashboard`);
      expect(new URL(page.url()).pathname).toBe('/tasks/auth/login');
    });

    it('sends no request anywhere but the local server', () => {
      expect(foreignHosts(pages.flatMap((p) => p.requests))).toEqual([]);
    });
  });
});
