// The view state, kept in the page's query string so that a link reproduces the view:
// ?status=failed&func_name=X&since=24h&search=timeout&sort=-duration&page=2&size=50&tab=dead&dl_since=7d&task=<id>

const SORTS = ['-created_at', 'created_at', '-duration', 'duration', 'func_name', '-func_name', 'status', '-status'];
const SINCE = /^(\d{1,7})[hd]$/;
const DL_SINCE = /^(?:(\d{1,7})[hd]|all)$/;
const TABS = ['tasks', 'dead', 'schedules', 'registered', 'audit'];
const SIZES = [25, 50, 100, 200];
const DEFAULT_VIEW = { status: '', func: '', since: '', search: '', sort: '-created_at', page: 1, size: 50, tab: 'tasks', dlSince: '7d', dlFunc: '', task: '' };

const view = Object.assign({}, DEFAULT_VIEW);

function readView() {
  const p = new URLSearchParams(location.search);
  const get = (k) => (p.get(k) || '').slice(0, 256);
  const status = get('status');
  const sort = get('sort');
  const since = get('since');
  const dlSince = get('dl_since');
  const tab = get('tab');
  const size = Number(get('size'));
  const page = Number(get('page'));
  Object.assign(view, {
    status: STATUSES.includes(status) ? status : '',
    func: get('func_name'),
    since: SINCE.test(since) ? since : '',
    search: get('search'),
    sort: SORTS.includes(sort) ? sort : DEFAULT_VIEW.sort,
    page: Number.isInteger(page) && page >= 1 ? page : 1,
    size: SIZES.includes(size) ? size : DEFAULT_VIEW.size,
    tab: TABS.includes(tab) && (tab !== 'audit' || CONFIG.auth) ? tab : 'tasks',
    dlSince: DL_SINCE.test(dlSince) ? dlSince : DEFAULT_VIEW.dlSince,
    dlFunc: get('dl_func'),
    task: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(get('task')) ? get('task') : '',
  });
}

/** Writes the view to the address bar: a new history entry, or a replacement (typing). */
function writeView(replace) {
  const p = new URLSearchParams();
  if (view.status) p.set('status', view.status);
  if (view.func) p.set('func_name', view.func);
  if (view.since) p.set('since', view.since);
  if (view.search) p.set('search', view.search);
  if (view.sort !== DEFAULT_VIEW.sort) p.set('sort', view.sort);
  if (view.page !== 1) p.set('page', String(view.page));
  if (view.size !== DEFAULT_VIEW.size) p.set('size', String(view.size));
  if (view.tab !== 'tasks') p.set('tab', view.tab);
  if (view.dlSince !== DEFAULT_VIEW.dlSince) p.set('dl_since', view.dlSince);
  if (view.dlFunc) p.set('dl_func', view.dlFunc);
  if (view.task) p.set('task', view.task);
  const qs = p.toString();
  const url = location.pathname + (qs ? `?${qs}` : '');
  if (url === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
}

/** The list filters of the view as query parameters of GET {path} (without paging). */
function filterParams() {
  const p = {};
  if (view.status) p.status = view.status;
  if (view.func) p.func_name = view.func;
  if (view.since) p.since = view.since;
  if (view.search) p.search = view.search;
  return p;
}

function hasFilters() {
  return !!(view.status || view.func || view.since || view.search);
}

/** Whether a record matches the current filters, as the server decides it. */
function matchesView(record) {
  if (view.status && record.status !== view.status) return false;
  if (view.func && record.func_name !== view.func) return false;
  if (view.since) {
    const m = /^(\d+)([hd])$/.exec(view.since);
    const cutoff = Date.now() - Number(m[1]) * (m[2] === 'h' ? 3600e3 : 86400e3);
    if (parseTime(record.created_at) < cutoff) return false;
  }
  if (view.search) {
    const needle = view.search.toLowerCase();
    const hay = [record.task_id, record.func_name, record.error || '', JSON.stringify(record.tags || {})];
    if (CONFIG.args && Array.isArray(record.args)) hay.push(JSON.stringify(record.args));
    if (!hay.some((text) => String(text).toLowerCase().includes(needle))) return false;
  }
  return true;
}
