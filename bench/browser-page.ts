/**
 * The browser of the by-hand dashboard measurements: Debian's Chromium through
 * playwright-core, one page of 1440 × 900 whose script errors are collected.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/support/chromium';

export interface BrowserPage {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  errors: string[];
}

export async function openBrowserPage(): Promise<BrowserPage> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { browser, context, page, errors };
}
