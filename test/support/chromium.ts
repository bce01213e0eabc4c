/**
 * How the browser tests and the dashboard bench start Debian's Chromium (through
 * playwright-core, which downloads no browser of its own).
 */
export const CHROMIUM_PATH = process.env.TASKFLOW_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-features=Translate,OptimizationHints,MediaRouter',
  '--disable-dev-shm-usage',
];
