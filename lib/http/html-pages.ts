import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function styleHash(css: string): string {
  return `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`;
}

/** Plain, self-contained style: system fonts, nothing fetched from elsewhere. */
const BASE_CSS = `
*{box-sizing:border-box}
body{margin:0;min-height:100vh;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;background:#f4f6f8}
main{max-width:22rem;margin:12vh auto 0;padding:2rem;background:#fff;border:1px solid #dde2e7;border-radius:8px}
h1{margin:0 0 1.25rem;font-size:1.25rem;font-weight:600;overflow-wrap:anywhere}
label{display:block;margin:0 0 .25rem;font-size:.875rem;font-weight:500}
input{display:block;width:100%;margin:0 0 1rem;padding:.5rem .625rem;font:inherit;border:1px solid #b8c2cc;border-radius:6px}
input:focus{outline:2px solid #00796b;outline-offset:1px;border-color:#00796b}
button{width:100%;padding:.55rem;font:inherit;font-weight:600;color:#fff;background:#00796b;border:0;border-radius:6px;cursor:pointer}
button:hover{background:#00695c}
.error{margin:0 0 1rem;padding:.5rem .75rem;color:#8a1c1c;background:#fdecec;border:1px solid #f5c2c2;border-radius:6px}
p.note{color:#52606d}
a{color:#00796b}
`.trim();

const BASE_CSS_HASH = styleHash(BASE_CSS);

/**
 * Headers of every HTML page: a CSP that allows nothing but the inline style
 * above (by hash) and same-origin form posts, no framing, no caching.
 */
export function setPageHeaders(response: ServerResponse): void {
  response.setHeader(
    'Content-Security-Policy',
    `default-src 'none'; style-src ${BASE_CSS_HASH}; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  );
  response.setHeader('Content-Type', 'text/html; charset=utf-8');
  response.setHeader('Cache-Control', 'no-store');
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('X-Frame-Options', 'DENY');
  response.setHeader('Referrer-Policy', 'no-referrer');
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
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

/** The server-rendered sign-in form; works without JavaScript. */
export function renderLoginPage(input: LoginPageInput): string {
  const title = escapeHtml(input.title);
  const error = input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>\n` : '';
  const username = input.username ? ` value="${escapeHtml(input.username)}"` : ' autofocus';
  const passwordFocus = input.username ? ' autofocus' : '';
  return page(
    `Sign in · ${title}`,
    `<main>
<h1>${title}</h1>
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
  /** Show the sign-out link (auth on). */
  signOut: boolean;
}

/** Placeholder until the dashboard lands: names the API and the stream. */
export function renderDashboardPlaceholder(input: DashboardPageInput): string {
  const title = escapeHtml(input.title);
  const path = escapeHtml(input.path);
  const signOut = input.signOut ? `\n<p><a href="${path}/auth/logout">Sign out</a></p>` : '';
  return page(
    title,
    `<main>
<h1>${title}</h1>
<p class="note">The dashboard is not available yet. The API is served at <a href="${path}">${path}</a>; live updates stream from <code>${path}/dashboard/stream</code>.</p>${signOut}
</main>`,
  );
}
