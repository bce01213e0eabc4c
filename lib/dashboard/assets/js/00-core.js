// Core helpers. Every string that comes from the server is put into the page with
// textContent (or as an attribute value through setAttribute), never as HTML.

const doc = document;
const CONFIG = {
  base: doc.body.dataset.base || '/tasks',
  poll: Math.max(1, Number(doc.body.dataset.poll) || 30),
  auth: doc.body.dataset.auth === '1',
  args: doc.body.dataset.args === '1',
};
const STATUSES = ['pending', 'running', 'success', 'failed', 'interrupted', 'cancelled'];
const TERMINAL = new Set(['success', 'failed', 'interrupted', 'cancelled']);
const RETRYABLE = new Set(['failed', 'interrupted']);
const CANCELLABLE = new Set(['pending', 'running']);

/** pending < running < finished: a task never goes back (terminal states never change). */
function stage(status) {
  return status === 'pending' ? 0 : status === 'running' ? 1 : 2;
}

/** Whether `next` may replace `current` (an event that raced a fetch must not undo it). */
function isNewerState(current, next) {
  return !current || stage(next.status) >= stage(current.status);
}
const SVG_NS = 'http://www.w3.org/2000/svg';

const $ = (selector, root) => (root || doc).querySelector(selector);
const $$ = (selector, root) => Array.from((root || doc).querySelectorAll(selector));

/** Builds an element. Children are nodes or text (never parsed as HTML). */
function h(tag, attrs, ...children) {
  const el = doc.createElement(tag);
  setAttrs(el, attrs);
  appendAll(el, children);
  return el;
}

/** Builds an SVG element. */
function svg(tag, attrs, ...children) {
  const el = doc.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  appendAll(el, children);
  return el;
}

function setAttrs(el, attrs) {
  if (!attrs) return;
  for (const key of Object.keys(attrs)) {
    const value = attrs[key];
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.setAttribute('class', value);
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

function appendAll(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : doc.createTextNode(String(child)));
  }
}

function clear(el) {
  el.replaceChildren();
  return el;
}

// ---- formatting -------------------------------------------------------------------------

const numberFormat = new Intl.NumberFormat();
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short',
});
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const hourMinuteFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

function fmtNumber(n) {
  return n === null || n === undefined || !Number.isFinite(Number(n)) ? '–' : numberFormat.format(Number(n));
}

/** Seconds → "12 ms", "3.40 s", "12.5 s", "4m 05s", "2h 13m". */
function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return '–';
  const ms = Math.max(0, Number(seconds) * 1000);
  if (ms < 1) return '<1 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3600000) {
    const m = Math.floor(ms / 60000);
    const s = Math.floor((ms % 60000) / 1000);
    return `${m}m ${String(s).padStart(2, '0')}s`;
  }
  const hours = Math.floor(ms / 3600000);
  const minutes = Math.floor((ms % 3600000) / 60000);
  return `${hours}h ${String(minutes).padStart(2, '0')}m`;
}

function fmtRate(rate) {
  return rate === null || rate === undefined ? '–' : `${(Number(rate) * 100).toFixed(1)}%`;
}

function rateClass(rate) {
  if (rate === null || rate === undefined) return '';
  return rate >= 0.95 ? 'rate-good' : rate >= 0.8 ? 'rate-warn' : 'rate-bad';
}

/** Epoch ms of an ISO-8601 string carrying an offset; NaN when absent. */
function parseTime(iso) {
  return typeof iso === 'string' ? Date.parse(iso) : NaN;
}

/** A <time> in the viewer's local time zone, with the UTC instant as its tooltip. */
function timeEl(iso, format) {
  const ms = parseTime(iso);
  if (!Number.isFinite(ms)) return h('span', { class: 'none', text: '–' });
  const date = new Date(ms);
  return h('time', { datetime: date.toISOString(), title: `${fullFormat.format(date)} (${date.toISOString()})` }, (format || dateTimeFormat).format(date));
}

function relative(ms) {
  const diff = Math.round((Date.now() - ms) / 1000);
  if (!Number.isFinite(diff)) return '';
  const abs = Math.abs(diff);
  const suffix = diff >= 0 ? 'ago' : 'from now';
  if (abs < 60) return `${abs}s ${suffix}`;
  if (abs < 3600) return `${Math.floor(abs / 60)}m ${suffix}`;
  if (abs < 86400) return `${Math.floor(abs / 3600)}h ${suffix}`;
  return `${Math.floor(abs / 86400)}d ${suffix}`;
}

function shortId(id) {
  return String(id).slice(0, 8);
}

function plural(n, one, many) {
  return `${fmtNumber(n)} ${n === 1 ? one : many || `${one}s`}`;
}

function statusBadge(status, extra) {
  const label = STATUSES.includes(status) ? status : 'unknown';
  return h('span', { class: `badge st-${label}` }, extra ? `${label} ${extra}` : label);
}

function priorityBadge(priority) {
  if (priority === null || priority === undefined) return h('span', { class: 'none', text: '–' });
  const p = Number(priority);
  const level = p >= 8 ? 'high' : p >= 5 ? 'mid' : 'low';
  return h('span', { class: `prio prio-${level}`, title: `Priority ${p}` }, String(p));
}

// ---- storage ------------------------------------------------------------------------------

const store = {
  get(key) {
    try {
      return localStorage.getItem(key);
    } catch (e) {
      return null;
    }
  },
  set(key, value) {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch (e) {
      /* storage disabled */
    }
  },
};

// ---- toasts -------------------------------------------------------------------------------

/** A toast built with text only. `action` is an optional {label, run}. */
function toast(message, kind, action) {
  const box = $('#toasts');
  const el = h('div', { class: `toast${kind === 'error' ? ' toast-error' : ''}`, role: kind === 'error' ? 'alert' : null });
  el.append(h('span', null, message));
  if (action) {
    el.append(h('button', { type: 'button', class: 'link', onclick: () => { action.run(); el.remove(); } }, action.label));
  }
  el.append(h('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss', onclick: () => el.remove() }, '×'));
  box.append(el);
  while (box.children.length > 4) box.firstElementChild.remove();
  setTimeout(() => el.remove(), kind === 'error' ? 9000 : 4500);
}

// ---- clipboard ----------------------------------------------------------------------------

async function copyText(text, what) {
  let ok = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      ok = true;
    }
  } catch (e) {
    ok = false;
  }
  if (!ok) {
    const area = h('textarea', { readonly: true, 'aria-hidden': 'true', class: 'sr-only' });
    area.value = text;
    doc.body.append(area);
    area.select();
    try {
      ok = doc.execCommand('copy');
    } catch (e) {
      ok = false;
    }
    area.remove();
  }
  toast(ok ? `${what || 'Text'} copied` : 'Could not copy to the clipboard', ok ? 'info' : 'error');
}

function copyButton(text, label) {
  return h(
    'button',
    {
      type: 'button',
      class: 'copy',
      title: `Copy ${label}`,
      'aria-label': `Copy ${label}`,
      onclick: (event) => {
        event.stopPropagation();
        copyText(text, label.charAt(0).toUpperCase() + label.slice(1));
      },
    },
    svg('svg', { class: 'icon icon-copy', viewBox: '0 0 24 24', 'aria-hidden': 'true' },
      svg('rect', { x: 9, y: 9, width: 11, height: 11, rx: 2 }),
      svg('path', { d: 'M5 15V5a2 2 0 0 1 2-2h8' })),
  );
}

/** Calls `fn` at most once per animation frame. */
function perFrame(fn) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      fn();
    });
  };
}

/** Runs async jobs with at most `limit` at a time. */
async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { ok: true, value: await fn(items[i]) };
      } catch (error) {
        results[i] = { ok: false, error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
