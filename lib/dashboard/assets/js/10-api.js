// The REST routes of SPEC §4 and the dashboard's insight routes, all under CONFIG.base.

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let signingOut = false;

/**
 * `path` is relative to the base ('' is the task list). Resolves with the parsed
 * body and X-Total-Count; rejects with an ApiError carrying the server's message.
 * A 401 with auth on means the session ended: go to the login page.
 */
async function api(path, options) {
  const opts = options || {};
  const query = opts.query ? (typeof opts.query === 'string' ? opts.query : new URLSearchParams(opts.query).toString()) : '';
  const url = CONFIG.base + path + (query ? `?${query}` : '');
  const init = { method: opts.method || 'GET', headers: { Accept: 'application/json' }, credentials: 'same-origin', signal: opts.signal };
  if (opts.body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (error && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'The server cannot be reached');
  }
  if (response.status === 401 && CONFIG.auth) {
    if (!signingOut) {
      signingOut = true;
      location.assign(`${CONFIG.base}/auth/login`);
    }
    throw new ApiError(401, 'Your session has ended; sign in again');
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    data = null;
  }
  if (!response.ok) {
    const message = data && data.message ? (Array.isArray(data.message) ? data.message.join('; ') : String(data.message)) : `HTTP ${response.status}`;
    throw new ApiError(response.status, message);
  }
  const total = response.headers.get('X-Total-Count');
  return { data, total: total === null ? null : Number(total) };
}

const taskPath = (id) => `/${encodeURIComponent(id)}`;

/** Number of tasks matching `params` (one row fetched, the header read). */
async function countTasks(params) {
  const { total } = await api('', { query: Object.assign({}, params, { limit: '1', offset: '0' }) });
  return total || 0;
}

/** Ids of tasks matching `params`, newest first, at most `cap`. */
async function collectIds(params, cap) {
  const ids = [];
  const seen = new Set();
  for (let offset = 0; ids.length < cap; offset += 5000) {
    const { data } = await api('', { query: Object.assign({}, params, { limit: '5000', offset: String(offset) }) });
    for (const record of data) {
      if (seen.has(record.task_id)) continue;
      seen.add(record.task_id);
      ids.push(record.task_id);
      if (ids.length >= cap) break;
    }
    if (data.length < 5000) break;
  }
  return ids;
}

/** POST bulk-retry in chunks of 5000 ids; sums the answers. */
async function bulkRetry(ids) {
  const total = { dispatched: 0, skipped: 0, results: [] };
  for (let i = 0; i < ids.length; i += 5000) {
    const { data } = await api('/bulk-retry', { method: 'POST', body: { task_ids: ids.slice(i, i + 5000) } });
    total.dispatched += data.dispatched;
    total.skipped += data.skipped;
    total.results.push(...data.results);
  }
  return total;
}
