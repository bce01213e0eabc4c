import { createHash } from 'node:crypto';
import type { DashboardBundle } from '../dashboard/dashboard-assets';
import type { ResponseAdapter } from './http-types';

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function styleHash(css: string): string {
  return `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`;
}

/**
 * The login page's style: the dashboard's look (same palette, system fonts, light
 * and dark following prefers-color-scheme), inline so the page needs nothing else
 * and allowed by its hash alone.
 */
const BASE_CSS = `
:root{color-scheme:light;--bg:#f5f6f8;--surface:#fff;--border:#dde1e7;--field:#c5cbd4;--text:#1b2330;--muted:#6b7686;--accent:#4f46e5;--accent-strong:#4338ca;--accent-text:#fff;--focus:#6366f1;--err-bg:#fde8e8;--err:#b42318}
@media (prefers-color-scheme:dark){:root{color-scheme:dark;--bg:#0f1218;--surface:#161a22;--border:#2a303c;--field:#3a4150;--text:#e6e9ef;--muted:#8c95a4;--accent:#818cf8;--accent-strong:#a5b4fc;--accent-text:#0f1218;--focus:#a5b4fc;--err-bg:#3d1a1d;--err:#ff9c9c}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;padding:24px 16px;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--text);background:var(--bg)}
main{width:100%;max-width:360px;padding:28px 28px 24px;background:var(--surface);border:1px solid var(--border);border-radius:12px;box-shadow:0 12px 32px rgba(16,24,40,.12)}
.brand{display:flex;align-items:center;gap:10px;margin:0 0 20px}
.brand svg{width:32px;height:32px;flex:none}
.brand rect{fill:var(--accent)}
.brand path{fill:none;stroke:var(--accent-text);stroke-width:2.6;stroke-linecap:round;stroke-linejoin:round}
h1{margin:0;font-size:18px;font-weight:600;overflow-wrap:anywhere}
p.sub{margin:2px 0 0;color:var(--muted);font-size:13px}
label{display:block;margin:0 0 6px;font-size:13px;font-weight:500}
input{display:block;width:100%;height:38px;margin:0 0 14px;padding:0 12px;font:inherit;color:inherit;background:var(--surface);border:1px solid var(--field);border-radius:8px}
input:focus{outline:2px solid var(--focus);outline-offset:1px;border-color:var(--focus)}
button{width:100%;height:40px;margin-top:6px;font:inherit;font-weight:600;color:var(--accent-text);background:var(--accent);border:0;border-radius:8px;cursor:pointer}
button:hover{background:var(--accent-strong)}
button:focus-visible{outline:2px solid var(--focus);outline-offset:2px}
.error{margin:0 0 16px;padding:10px 12px;color:var(--err);background:var(--err-bg);border-radius:8px;font-weight:500}
a{color:var(--accent)}
`.trim();

const BASE_CSS_HASH = styleHash(BASE_CSS);

/**
 * Headers of every HTML page: a CSP that allows nothing but the inline style
 * above (by hash) and same-origin form posts, no framing, no caching.
 */
export function setPageHeaders(response: Pick<ResponseAdapter, 'setHeader'>): void {
  response.setHeader(
    'Content-Security-Policy',
    `default-src 'none'; style-src ${BASE_CSS_HASH}; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  );
  response.setHeader('Content-Type', 'text/html; charset=utf-8');
  response.setHeader('Cache-Control', 'no-store');
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('X-Frame-Options', 'DENY');
  // Not `no-referrer`: with it a browser posts the login form with `Origin: null`,
  // which the cross-site sign-in check refuses. `same-origin` tells other sites nothing.
  response.setHeader('Referrer-Policy', 'same-origin');
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<meta name="color-scheme" content="light dark">
<title>${title}</title>
<style>${BASE_CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

export interface LoginPageInput {
  title: string;
  /** Form action: `{path}/auth/login`. */
  action: string;
  error?: string;
  username?: string;
}

const LOGO = '<svg viewBox="0 0 32 32" aria-hidden="true"><rect width="32" height="32" rx="8"/><path d="M7 17h4l3-7 4 13 3-6h4"/></svg>';

/** The server-rendered sign-in form; works without JavaScript. */
export function renderLoginPage(input: LoginPageInput): string {
  const title = escapeHtml(input.title);
  const error = input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>\n` : '';
  const username = input.username ? ` value="${escapeHtml(input.username)}"` : ' autofocus';
  const passwordFocus = input.username ? ' autofocus' : '';
  return page(
    `Sign in · ${title}`,
    `<main>
<div class="brand">${LOGO}<div><h1>${title}</h1><p class="sub">Sign in to the task dashboard</p></div></div>
${error}<form method="post" action="${escapeHtml(input.action)}">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" maxlength="256" required${username}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" maxlength="1024" required${passwordFocus}>
<button type="submit">Sign in</button>
</form>
</main>`,
  );
}

export interface DashboardPageInput {
  title: string;
  path: string;
  /** Show the sign-out link and the audit tab (auth on). */
  auth: boolean;
  /** Seconds between polls while the stream is unavailable. */
  pollInterval: number;
  /** Arguments are shown (displayFuncArgs). */
  displayFuncArgs: boolean;
}

/**
 * The dashboard's page: the static skeleton of lib/dashboard/assets/index.html with
 * the escaped title, the hashed asset URLs and the configuration as data attributes
 * (no inline script: the CSP allows scripts and styles from 'self' only).
 */
export function renderDashboardPage(input: DashboardPageInput, bundle: DashboardBundle): string {
  const assets = `${input.path}/dashboard/assets/`;
  const values: Record<string, string> = {
    title: input.title,
    base: input.path,
    css: assets + bundle.files.css,
    js: assets + bundle.files.js,
    theme: assets + bundle.files.theme,
    icon: assets + bundle.files.icon,
    poll: String(input.pollInterval),
    auth: input.auth ? '1' : '0',
    args: input.displayFuncArgs ? '1' : '0',
  };
  return bundle.template.replace(/\{\{(\w+)\}\}/g, (_match, key: string) => {
    if (!Object.prototype.hasOwnProperty.call(values, key)) throw new Error(`dashboard template: unknown placeholder {{${key}}}`);
    return escapeHtml(values[key]);
  });
}

/**
 * Headers of the dashboard page: scripts, styles, images and connections from the
 * page's own origin only (no inline code), no framing, no caching of the page itself.
 */
export function setDashboardHeaders(response: Pick<ResponseAdapter, 'setHeader'>): void {
  response.setHeader(
    'Content-Security-Policy',
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
      "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  response.setHeader('Content-Type', 'text/html; charset=utf-8');
  response.setHeader('Cache-Control', 'no-store');
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('X-Frame-Options', 'DENY');
  response.setHeader('Referrer-Policy', 'no-referrer');
}
