import request from 'supertest';
import { TaskData, TaskRecord } from '../../lib';
import { csvCell } from '../../lib/http/task-csv';
import { comparator, pageOf } from '../../lib/storage/task-filter';
import { TASK_SORTS } from '../../lib/task/task-query';
import { errorSignature } from '../../lib/engine/task-insights.service';
import { HttpApp, createHttpApp, gate, runToEnd, startHeld } from '../support/http-app';
import { describeEachPlatform } from '../support/http-platforms';
import { history, seedSqlite } from './seed';

const MINUTE = 60_000;

describeEachPlatform('dashboard page and assets', (platform) => {
  let h: HttpApp;
  beforeAll(async () => {
    h = await createHttpApp({ title: 'Ops <b>"&"</b>', pollInterval: 7 }, { platform });
  });
  afterAll(() => h.close());

  it('serves a page with no inline code, the title escaped and the configuration as data attributes', async () => {
    const res = await request(h.server).get('/tasks/dashboard').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html; charset=utf-8/);
    const csp = res.headers['content-security-policy'];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe|sha256|nonce|\*/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('Ops &lt;b&gt;&quot;&amp;&quot;&lt;/b&gt;');
    expect(res.text).not.toContain('<b>');
    expect(res.text).not.toMatch(/<style|style="|<script(?![^>]*\ssrc=)/);
    expect(res.text).not.toMatch(/https?:\/\//);
    expect(res.text).toMatch(/<body data-base="\/tasks" data-poll="7" data-auth="0" data-args="0">/);
    expect(res.text).toMatch(/<script src="\/tasks\/dashboard\/assets\/app\.[0-9a-f]{12}\.js" defer><\/script>/);
    expect(res.text).toMatch(/<link rel="stylesheet" href="\/tasks\/dashboard\/assets\/app\.[0-9a-f]{12}\.css">/);
  });

  it('serves the assets under hashed names, cacheable for a year, compressed on request', async () => {
    const page = await request(h.server).get('/tasks/dashboard').expect(200);
    const urls = [...page.text.matchAll(/(?:src|href)="(\/tasks\/dashboard\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(urls).toHaveLength(4);
    for (const url of urls) {
      const res = await request(h.server).get(url).set('Accept-Encoding', 'identity').expect(200);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-type']).toMatch(/^(text\/javascript|text\/css|image\/svg\+xml)/);
      const etag = res.headers.etag;
      await request(h.server).get(url).set('If-None-Match', etag).expect(304);
      const gz = await request(h.server).get(url).set('Accept-Encoding', 'gzip').expect(200);
      expect(gz.headers['content-encoding']).toBe('gzip');
      const br = await request(h.server)
        .get(url)
        .set('Accept-Encoding', 'gzip, br')
        .buffer(true)
        .parse((r, cb) => {
          r.on('data', () => undefined);
          r.on('end', () => cb(null, null));
        })
        .expect(200);
      expect(br.headers['content-encoding']).toBe('br');
    }
    const js = await request(h.server)
      .get(urls.find((u) => /app\.[0-9a-f]+\.js$/.test(u))!)
      .set('Accept-Encoding', 'identity');
    expect(js.text).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    expect(js.text).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    await request(h.server).get('/tasks/dashboard/assets/app.000000000000.js').expect(404);
    await request(h.server).get('/tasks/dashboard/assets/..%2F..%2Fpackage.json').expect(404);
  });
});

describeEachPlatform('dashboard routes with auth on', (platform) => {
  let h: HttpApp;
  beforeAll(async () => {
    h = await createHttpApp({ auth: ['admin', 's3cret'] }, { platform });
  });
  afterAll(() => h.close());

  it('keeps data behind the session but serves the static files to anyone', async () => {
    expect((await request(h.server).get('/tasks/dashboard').expect(302)).headers.location).toBe('/tasks/auth/login');
    for (const path of ['/tasks/insights/throughput', '/tasks/insights/functions', '/tasks/insights/dead-letters', '/tasks/export.csv']) {
      await request(h.server).get(path).expect(401);
    }
    const login = await request(h.server).post('/tasks/auth/login').send({ username: 'admin', password: 's3cret' }).expect(200);
    const page = await request(h.server).get('/tasks/dashboard').set('Authorization', `Bearer ${login.body.access_token}`).expect(200);
    expect(page.text).toContain('data-auth="1"');
    const asset = /href="(\/tasks\/dashboard\/assets\/app\.[0-9a-f]+\.css)"/.exec(page.text)![1];
    await request(h.server).get(asset).expect(200);
    await request(h.server).get('/tasks/insights/functions').set('Authorization', `Bearer ${login.body.access_token}`).expect(200);
  });
});

describe('list sort and search in memory (pageOf)', () => {
  const now = Date.now();
  const tasks = history(now);

  it('orders every sort as documented: equal keys newest first, no duration last', () => {
    for (const sort of TASK_SORTS) {
      const items = pageOf(tasks, { sort, limit: 5000 }).items;
      for (let i = 1; i < items.length; i++) expect(comparator(sort)(items[i - 1], items[i])).toBeLessThanOrEqual(0);
      if (sort.endsWith('duration')) expect(items[items.length - 1].startTime).toBeNull();
    }
    const byDuration = pageOf(tasks, { sort: '-duration', limit: 3 }).items;
    expect(byDuration.map((t) => t.funcName)).toEqual(['Jobs.hold', 'Old.gone', 'Jobs.fail']);
  });

  it('search looks into tags, and into args only when allowed; q keeps its meaning', () => {
    expect(pageOf(tasks, { search: 'ACME', limit: 100 }).total).toBe(12);
    expect(pageOf(tasks, { q: 'acme', limit: 100 }).total).toBe(0);
    expect(pageOf(tasks, { search: 'user3@example', limit: 100 }).total).toBe(0);
    expect(pageOf(tasks, { search: 'user3@example', searchArgs: true, limit: 100 }).total).toBe(1);
    expect(pageOf(tasks, { search: 'bad input', limit: 100 }).total).toBe(6);
  });
});

describeEachPlatform('dashboard read routes on SQLite', (platform) => {
  let h: HttpApp;
  let seeded: TaskData[];
  let dispose: () => void;
  const now = Date.now();

  beforeAll(async () => {
    seeded = history(now);
    const db = await seedSqlite(seeded);
    dispose = db.dispose;
    h = await createHttpApp({ snapshotDb: db.file, displayFuncArgs: true }, { platform });
  });
  afterAll(async () => {
    await h?.close();
    dispose?.();
  });

  it('GET /tasks sorts as the in-memory listing does, for every sort', async () => {
    for (const sort of TASK_SORTS) {
      const res = await request(h.server).get('/tasks').query({ sort, limit: '100' }).expect(200);
      const expected = pageOf(seeded, { sort, limit: 100 }).items;
      // Ties on every key (same created_at) are ordered by id in the database.
      const normalise = (list: { id: string; createdAt: number }[]) => list.map((t) => `${t.createdAt}`);
      expect(normalise(res.body.map((r: TaskRecord) => ({ id: r.task_id, createdAt: Date.parse(r.created_at) })))).toEqual(normalise(expected));
      expect([sort, ...res.body.map((r: TaskRecord) => `${r.status} ${r.duration}`)]).toEqual([
        sort,
        ...expected.map((t) => `${t.status} ${t.startTime !== null && t.endTime !== null ? (t.endTime - t.startTime) / 1000 : null}`),
      ]);
      expect(res.headers['x-total-count']).toBe(String(seeded.length));
    }
    const tied = (await request(h.server).get('/tasks').query({ limit: '2' }).expect(200)).body as TaskRecord[];
    expect(tied[0].created_at).toBe(tied[1].created_at);
    expect(tied[0].task_id > tied[1].task_id).toBe(true);
  });

  it('rejects an unknown sort with 400 naming the allowed values', async () => {
    const res = await request(h.server).get('/tasks?sort=priority').expect(400);
    expect(res.body.message).toContain('-created_at');
    await request(h.server).get('/tasks?sort=duration&sort=status').expect(400);
  });

  it('search matches id, name, error, tags and (with displayFuncArgs) args; q does not look at tags', async () => {
    const count = async (query: Record<string, string>) => (await request(h.server).get('/tasks').query(query).expect(200)).headers['x-total-count'];
    expect(await count({ search: 'ACME' })).toBe('12');
    expect(await count({ q: 'acme' })).toBe('0');
    expect(await count({ search: 'user3@EXAMPLE.com' })).toBe('1');
    expect(await count({ search: 'econnrefused', status: 'failed' })).toBe('3');
    expect(await count({ search: '100%' })).toBe('0');
    expect(await count({ search: seeded[0].id.slice(0, 13) })).toBe('1');
  });

  it('throughput: tasks finished per minute over the last hour, by status', async () => {
    const res = await request(h.server).get('/tasks/insights/throughput').expect(200);
    const body = res.body;
    expect(body.minutes).toBe(60);
    expect(body.bucket_seconds).toBe(60);
    expect(body.buckets).toHaveLength(60);
    const from = Date.parse(body.from);
    expect(from % MINUTE).toBe(0);
    expect(Date.parse(body.buckets[59].start)).toBe(from + 59 * MINUTE);
    const expected = body.buckets.map(() => ({ success: 0, failed: 0, interrupted: 0, cancelled: 0 }));
    for (const t of seeded) {
      const end = t.endTime ?? t.createdAt;
      if (end < from) continue;
      expected[Math.floor((end - from) / MINUTE)][t.status as 'success']++;
    }
    expect(body.buckets.map(({ start: _s, ...counts }: { start: string }) => counts)).toEqual(expected);
    expect((await request(h.server).get('/tasks/insights/throughput?minutes=5').expect(200)).body.buckets).toHaveLength(5);
    for (const bad of ['0', '1441', 'x', '1.5']) await request(h.server).get(`/tasks/insights/throughput?minutes=${bad}`).expect(400);
  });

  it('functions: counts, success rate, percentiles and the last failure of each function', async () => {
    const res = await request(h.server).get('/tasks/insights/functions').expect(200);
    const byName = Object.fromEntries(res.body.map((f: { func_name: string }) => [f.func_name, f]));
    expect(Object.keys(byName)).toEqual(['Jobs.chatty', 'Jobs.fail', 'Jobs.hold', 'Jobs.ok', 'Old.gone']);
    expect(byName['Jobs.chatty']).toEqual(expect.objectContaining({ total: 0, registered: true, success_rate: null, last_failure: null }));
    expect(byName['Old.gone']).toEqual(expect.objectContaining({ total: 1, registered: false, success: 1, success_rate: 1 }));
    const fail = byName['Jobs.fail'];
    expect(fail).toEqual(expect.objectContaining({ total: 6, failed: 6, success_rate: 0, registered: true }));
    const newestFail = seeded.filter((t) => t.funcName === 'Jobs.fail').sort((a, b) => b.createdAt - a.createdAt)[0];
    expect(fail.last_failure).toEqual({ task_id: newestFail.id, at: new Date(newestFail.endTime!).toISOString(), error: newestFail.error });
    const ok = byName['Jobs.ok'];
    expect(ok).toEqual(expect.objectContaining({ total: 18, success: 14, failed: 3, cancelled: 1 }));
    expect(ok.success_rate).toBeCloseTo(14 / 18, 5);
    // 17 durations: 50, 50, 100, 200, 300, 395 x3, 400 (the median), ... 1200 ms; the histogram answers within 5 %.
    expect(ok.p50_duration_seconds).toBeGreaterThan(0.4 * 0.95);
    expect(ok.p50_duration_seconds).toBeLessThan(0.4 * 1.05);
    expect(ok.p95_duration_seconds).toBeCloseTo(1.2, 2);
    expect(ok.last_failure.error).toMatch(/ECONNREFUSED/);
  });

  it('dead letters: failed and interrupted tasks grouped by error signature', async () => {
    const res = await request(h.server).get('/tasks/insights/dead-letters?since=24h').expect(200);
    const body = res.body;
    expect(body).toEqual(expect.objectContaining({ scanned: 10, truncated: false }));
    expect(Date.parse(body.since)).toBeGreaterThan(now - 25 * 3_600_000);
    const groups = body.groups;
    expect(groups.map((g: { signature: string; count: number }) => [g.signature, g.count])).toEqual([
      ['TypeError: bad input #<n>', 6],
      ['Error: connect ECONNREFUSED <ip>', 3],
      ['=HYPERLINK("http://evil.example","Interrupted")', 1],
    ]);
    const first = groups[0];
    const fails = seeded.filter((t) => t.funcName === 'Jobs.fail').sort((a, b) => b.createdAt - a.createdAt);
    expect(first.task_ids).toEqual(fails.map((t) => t.id));
    expect(first.sample_task_id).toBe(fails[0].id);
    expect(first.error).toBe(fails[0].error);
    expect(first.functions).toEqual(['Jobs.fail']);
    expect(first.statuses).toEqual({ failed: 6 });
    expect(first.last_seen).toBe(new Date(fails[0].createdAt).toISOString());
    expect(first.first_seen).toBe(new Date(fails[5].createdAt).toISOString());
    expect(groups[2].statuses).toEqual({ interrupted: 1 });
    const narrow = (await request(h.server).get('/tasks/insights/dead-letters?since=24h&func_name=Jobs.ok').expect(200)).body;
    expect(narrow.groups.map((g: { count: number }) => g.count)).toEqual([3]);
    const recent = (await request(h.server).get('/tasks/insights/dead-letters?since=0h').expect(200)).body;
    expect(recent.groups).toEqual([]);
    await request(h.server).get('/tasks/insights/dead-letters?since=6m').expect(400);
  });

  it('exports the current filter as CSV, defused against formula injection', async () => {
    const hold = await request(h.server).get('/tasks/export.csv?func_name=Jobs.hold').buffer(true).expect(200);
    expect(hold.text).toContain(`,"'=HYPERLINK(""http://evil.example"",""Interrupted"")",[]\r\n`);
    const res = await request(h.server).get('/tasks/export.csv?func_name=Jobs.fail&sort=created_at').buffer(true).expect(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="tasks-[0-9TZ-]+\.csv"$/);
    const lines = res.text.split('\r\n');
    expect(lines[0]).toBe(
      'task_id,func_name,status,source,priority,created_at,start_time,end_time,duration_seconds,retries_used,progress,run_at,tags,error,args',
    );
    expect(lines).toHaveLength(6 + 2);
    expect(lines[7]).toBe('');
    const oldest = seeded.filter((t) => t.funcName === 'Jobs.fail').sort((a, b) => a.createdAt - b.createdAt)[0];
    expect(lines[1].startsWith(`${oldest.id},Jobs.fail,failed,manual,,`)).toBe(true);
    expect(lines[1]).toContain(',TypeError: bad input #1000,"[""=HYPERLINK(\\""http://evil.example');
    expect(lines[1]).toContain('"{""tenant"":""acme""}"');
    const limited = await request(h.server).get('/tasks/export.csv?limit=3').buffer(true).expect(200);
    expect(limited.text.split('\r\n')).toHaveLength(3 + 2);
    await request(h.server).get('/tasks/export.csv?limit=100001').expect(400);
    await request(h.server).get('/tasks/export.csv?sort=bogus').expect(400);
    await request(h.server).get('/tasks/export.csv?offset=5').expect(400);
  });

  it('defuses every cell a spreadsheet would evaluate', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-1')).toBe("'-1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tx')).toBe("'\tx");
    expect(csvCell('a,"b"')).toBe('"a,""b"""');
    expect(csvCell(-1)).toBe('-1');
    expect(csvCell(null)).toBe('');
  });

  it('masks what varies between occurrences of one error', () => {
    expect(errorSignature('Error: user 3fa85f64-5717-4562-b3fc-2c963f66afa6 not found\n    at x', 'failed')).toBe('Error: user <uuid> not found');
    expect(errorSignature('Error: mail to bob@example.com bounced', 'failed')).toBe('Error: mail to <email> bounced');
    expect(errorSignature('Error: HTTP 503 after 30000 ms', 'failed')).toBe('Error: HTTP 503 after <n> ms');
    expect(errorSignature('Error: request failed with status code 404', 'failed')).toBe('Error: request failed with status code 404');
    expect(errorSignature('ValidationError: row 17 of batch 3001 (v2): bad #9', 'failed')).toBe(
      'ValidationError: row <n> of batch <n> (v2): bad #<n>',
    );
    expect(errorSignature(null, 'interrupted')).toBe('Interrupted (no error recorded)');
  });
});

describeEachPlatform('dashboard read routes in memory', (platform) => {
  let h: HttpApp;
  beforeAll(async () => {
    h = await createHttpApp({}, { platform });
    await runToEnd(h.manager, 'Jobs.ok', 'a');
    await runToEnd(h.manager, 'Jobs.fail', 'Timeout after 31337 ms');
    await runToEnd(h.manager, 'Jobs.fail', 'Timeout after 42424 ms');
  });
  afterAll(() => h.close());

  it('answers throughput, functions and dead letters from the records in memory', async () => {
    const held = await startHeld(h.manager, `insights-mem-${platform}`);
    const throughput = (await request(h.server).get('/tasks/insights/throughput?minutes=2').expect(200)).body;
    const sum = (key: string) => throughput.buckets.reduce((n: number, b: Record<string, number>) => n + b[key], 0);
    expect([sum('success'), sum('failed')]).toEqual([1, 2]);
    const functions = (await request(h.server).get('/tasks/insights/functions').expect(200)).body;
    const fail = functions.find((f: { func_name: string }) => f.func_name === 'Jobs.fail');
    expect(fail).toEqual(expect.objectContaining({ total: 2, failed: 2, success_rate: 0 }));
    expect(fail.last_failure.error).toBe('Error: Timeout after 42424 ms');
    expect(functions.find((f: { func_name: string }) => f.func_name === 'Jobs.hold')).toEqual(expect.objectContaining({ running: 1, total: 1 }));
    const dead = (await request(h.server).get('/tasks/insights/dead-letters').expect(200)).body;
    expect(dead.groups).toEqual([expect.objectContaining({ signature: 'Error: Timeout after <n> ms', count: 2 })]);
    await h.manager.cancel(held);
    gate(`insights-mem-${platform}`).open();
  });
});
