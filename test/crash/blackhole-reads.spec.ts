/**
 * A black-holed database under a running app: the proxy in front of the server drops
 * every byte in both directions and resets nothing, so queries and new connections
 * hang instead of failing. Reads (`GET {path}`, `GET {path}/metrics`, getTask,
 * listTasks, metrics) answer from memory within `queryTimeout` plus a margin, later
 * ones at once; the outage and the recovery are logged once each; after the proxy is
 * restored the app recovers without a restart and every task that ran is stored.
 */
import { pollUntil } from '../support/crash-child';
import { describeEachOf, serverAddress, throughPort } from '../support/crash-db';
import { useCrashSuite } from '../support/crash-suite';
import { CapturingLogger } from '../support/capturing-logger';
import { createHttpApp, runToEnd } from '../support/http-app';
import { TcpProxy } from '../support/tcp-proxy';

const QUERY_TIMEOUT_S = 2;
/** How long a read may take while the database is black-holed: the query timeout and a margin for a loaded machine. */
const READ_BOUND_MS = QUERY_TIMEOUT_S * 1000 + 2000;
/** Once the outage is known, reads do not touch the database at all. */
const KNOWN_OUTAGE_BOUND_MS = 1000;
const OUTAGE = /Cannot (write|read) task history/;
const RECOVERY = /Database reachable again/;

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - started };
}

describeEachOf(['postgres', 'mysql'], 'black-holed database', (target) => {
  const suite = useCrashSuite(target.options);

  it('answers reads from memory within the query timeout, logs the outage and the recovery once, and stores everything after', async () => {
    const proxy = new TcpProxy(serverAddress(target.options));
    const port = await proxy.start();
    const logger = new CapturingLogger();
    const http = await createHttpApp(
      { database: throughPort(target.options, port), tablePrefix: suite.prefix, queryTimeout: QUERY_TIMEOUT_S },
      { logger },
    );
    try {
      const { manager, url } = http;
      const get = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
        const response = await fetch(url + path, { signal: AbortSignal.timeout(60_000) });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      };
      const stored = async (ids: string[]) => {
        const rows = await suite.table.byId();
        return ids.every((id) => rows.get(id)?.status === 'success');
      };
      const before: string[] = [];
      for (const label of ['a', 'b', 'c']) before.push((await runToEnd(manager, 'Jobs.ok', label)).task_id);
      await pollUntil('the first tasks stored', () => stored(before));

      proxy.blackhole();
      const during: string[] = [];
      for (const label of ['d', 'e', 'f']) during.push((await runToEnd(manager, 'Jobs.ok', label)).task_id);

      const list = await timed(() => get('/tasks'));
      const metrics = await timed(() => get('/tasks/metrics'));
      const one = await timed(() => manager.getTask(during[0]));
      const listed = await timed(() => manager.listTasks({ limit: 100 }));
      const counted = await timed(() => manager.metrics());
      const firstRound = [list.ms, metrics.ms, one.ms, listed.ms, counted.ms];
      for (const ms of firstRound) expect(ms).toBeLessThan(READ_BOUND_MS);
      expect(list.value.status).toBe(200);
      expect(metrics.value).toMatchObject({ status: 200, body: { total: 6, success: 6 } });
      expect(one.value).toMatchObject({ task_id: during[0], status: 'success' });
      expect(listed.value.total).toBe(6);
      expect(counted.value).toMatchObject({ total: 6, success: 6 });

      // The outage is known now: reads go straight to memory.
      const again = [await timed(() => get('/tasks')), await timed(() => get('/tasks/metrics')), await timed(() => manager.listTasks({}))];
      for (const read of again) expect(read.ms).toBeLessThan(KNOWN_OUTAGE_BOUND_MS);
      expect(logger.matching(OUTAGE)).toHaveLength(1);

      // More work during the outage, then the network comes back.
      const late = (await runToEnd(manager, 'Jobs.ok', 'g')).task_id;
      const restoredAt = Date.now();
      proxy.restore();
      const all = [...before, ...during, late];
      await pollUntil('every task stored', () => stored(all), 40_000);
      const storedMs = Date.now() - restoredAt;
      await pollUntil('the recovery logged', () => logger.matching(RECOVERY).length > 0, 10_000);
      const afterwards = await timed(() => get('/tasks/metrics'));
      expect(afterwards.value).toMatchObject({ status: 200, body: { total: 7, success: 7 } });
      expect((await manager.listTasks({ limit: 100 })).total).toBe(7);

      const outageLines = logger.matching(OUTAGE);
      const recoveryLines = logger.matching(RECOVERY);
      expect(outageLines).toHaveLength(1);
      expect(recoveryLines).toHaveLength(1);
      const noisy = logger.lines.filter((l) => (l.level === 'error' || l.level === 'warn') && !OUTAGE.test(l.message));
      expect(noisy).toEqual([]);
      console.log(
        `[${target.name}] black hole, queryTimeout ${QUERY_TIMEOUT_S} s: first reads took ${firstRound.join(', ')} ms ` +
          `(GET /tasks, GET /tasks/metrics, getTask, listTasks, metrics); later reads ${again.map((r) => r.ms).join(', ')} ms; ` +
          `after restore all stored within ${storedMs} ms, metrics from the database in ${afterwards.ms} ms; log lines:\n` +
          `  ${outageLines[0].level}: ${outageLines[0].message}\n  ${recoveryLines[0].level}: ${recoveryLines[0].message}`,
      );
    } finally {
      proxy.restore();
      await http.close();
      await proxy.stop();
    }
  }, 120_000);
  it('notices an outage that only reads meet, and its end through a probe, with nothing waiting to be written', async () => {
    const proxy = new TcpProxy(serverAddress(target.options));
    const port = await proxy.start();
    const logger = new CapturingLogger();
    const http = await createHttpApp(
      { database: throughPort(target.options, port), tablePrefix: suite.prefix, queryTimeout: QUERY_TIMEOUT_S },
      { logger },
    );
    try {
      const { manager, url } = http;
      const id = (await runToEnd(manager, 'Jobs.ok', 'h')).task_id;
      await pollUntil('the task stored', async () => (await suite.table.byId()).get(id)?.status === 'success');
      await manager.flush();

      proxy.blackhole();
      const first = await timed(() => fetch(url + '/tasks/metrics', { signal: AbortSignal.timeout(60_000) }));
      expect(first.value.status).toBe(200);
      expect(first.ms).toBeLessThan(READ_BOUND_MS);
      const second = await timed(() => manager.getTask(id));
      expect(second.value).toMatchObject({ task_id: id, status: 'success' });
      expect(second.ms).toBeLessThan(KNOWN_OUTAGE_BOUND_MS);
      const outageLines = logger.matching(/Cannot read task history/);
      expect(outageLines).toHaveLength(1);

      proxy.restore();
      await pollUntil('the recovery logged', () => logger.matching(RECOVERY).length > 0, 20_000);
      expect(logger.matching(OUTAGE)).toHaveLength(1);
      expect(logger.matching(RECOVERY)).toHaveLength(1);
      expect(logger.lines.filter((l) => (l.level === 'error' || l.level === 'warn') && !OUTAGE.test(l.message))).toEqual([]);
      console.log(`[${target.name}] read-only outage: first read ${first.ms} ms, then ${second.ms} ms; line: ${outageLines[0].message}`);
    } finally {
      proxy.restore();
      await http.close();
      await proxy.stop();
    }
  }, 60_000);
});
