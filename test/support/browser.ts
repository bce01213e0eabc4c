import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page, Request } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium';
import { isCi } from './databases';

export { CHROMIUM_ARGS, CHROMIUM_PATH };

/**
 * Debian's Chromium driven by playwright-core (which downloads no browser). Each test
 * file launches one browser (a fresh temporary profile) and opens contexts in it.
 * Where /usr/bin/chromium is absent the suites are skipped with a message, unless CI
 * is set: then they fail.
 */
export const DOCS_DIR = path.resolve(__dirname, '..', '..', 'docs');

/**
 * Where screenshots go: docs/ when TASKFLOW_SCREENSHOTS=1 (to refresh the README's
 * pictures: `TASKFLOW_SCREENSHOTS=1 npx jest test/dashboard`), else a temp folder, so
 * an ordinary test run leaves the work tree as it was.
 */
export const SCREENSHOT_DIR = process.env.TASKFLOW_SCREENSHOTS === '1' ? DOCS_DIR : path.join(os.tmpdir(), 'taskflow-screenshots');

export function chromiumAvailable(): boolean {
  try {
    fs.accessSync(CHROMIUM_PATH, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `describe` that needs Chromium: skipped with a message where it is absent, a failure under CI. */
export function describeBrowser(title: string, fn: () => void): void {
  if (chromiumAvailable()) {
    describe(title, fn);
  } else if (isCi()) {
    describe(title, () => {
      it('has Chromium installed (CI is set, so this is a failure, not a skip)', () => {
        throw new Error(`${CHROMIUM_PATH} is missing: install Debian's chromium package (apt-get install -y chromium)`);
      });
    });
  } else {
    console.warn(`Skipping "${title}": ${CHROMIUM_PATH} is missing. Install chromium, or set CI=true to make this a failure.`);
    describe.skip(title, fn);
  }
}

export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** A page that records every request and every script error of its context. */
export interface TrackedPage {
  page: Page;
  context: BrowserContext;
  /** Every URL the browser asked for (documents, scripts, fetches, the stream, icons...). */
  requests: string[];
  /** Uncaught exceptions and console errors of the page. */
  errors: string[];
  close(): Promise<void>;
}

export async function openPage(browser: Browser, options: BrowserContextOptions = {}): Promise<TrackedPage> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, ...options });
  const requests: string[] = [];
  const errors: string[] = [];
  context.on('request', (request: Request) => requests.push(request.url()));
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    // Expected when a test blocks the stream or a route answers an error status on purpose.
    if (/Failed to load resource|net::ERR_FAILED|EventSource/.test(text)) return;
    errors.push(`console: ${text}`);
  });
  page.setDefaultTimeout(10_000);
  return { page, context, requests, errors, close: () => context.close() };
}

/** Hosts that are not the local machine among `urls` (data: and blob: URLs are local). */
export function foreignHosts(urls: readonly string[]): string[] {
  const foreign = new Set<string>();
  for (const url of urls) {
    if (url.startsWith('data:') || url.startsWith('blob:') || url === 'about:blank') continue;
    const host = new URL(url).hostname;
    if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') foreign.add(host);
  }
  return [...foreign];
}

/** Waits for the dashboard's first table render. */
export async function waitReady(page: Page): Promise<void> {
  await page.waitForSelector('body[data-ready="1"]');
}

export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, name), fullPage, animations: 'disabled' });
}
