/**
 * The TypeORM backend's own deadline, and the connect timeouts the package adds, on a black-holed server (the proxy drops every
 * byte, resets nothing): calls fail within `queryTimeout`
 * however many wait for the small pool, the connections that timed out are destroyed
 * rather than pooled with a statement in flight, and once the network is back the same
 * backend answers again without being reopened, even when the server forgot every
 * connection the partition held (they stay open and silent).
 */
import type { DataSourceOptions } from 'typeorm';
import { resolveOptions } from '../../lib/options/resolve-options';
import { createBackend } from '../../lib/persistence/create-backend';
import { MemoryTaskStore } from '../../lib/storage/memory-task.store';
import { TaskTable, describeEachOf, serverAddress, throughPort } from '../support/crash-db';
import { uniquePrefix } from '../support/databases';
import { TcpProxy } from '../support/tcp-proxy';

const QUERY_TIMEOUT_S = 1;
const POOL_SIZE = 2;
const CALLS = 3 * POOL_SIZE;

describeEachOf(['postgres', 'mysql'], 'query timeout', (target) => {
  it('fails every call within the timeout during a black hole, loses no pool slot, and answers again after restore', async () => {
    const prefix = uniquePrefix();
    const proxy = new TcpProxy(serverAddress(target.options));
    const port = await proxy.start();
    // Built as the module builds it, with the connection options the package adds.
    const options = resolveOptions(
      {
        database: { ...throughPort(target.options, port), poolSize: POOL_SIZE } as DataSourceOptions,
        tablePrefix: prefix,
        queryTimeout: QUERY_TIMEOUT_S,
      },
      'manager',
    );
    const backend = createBackend(options, new MemoryTaskStore(100));
    try {
      await backend.open();
      expect(await backend.metrics()).toMatchObject({ total: 0 });

      proxy.blackhole();
      const started = Date.now();
      const outcomes = await Promise.all(
        Array.from({ length: CALLS }, (_, i) =>
          (i % 2 ? backend.metrics() : backend.listTasks({ limit: 10 })).then(
            () => ({ ms: Date.now() - started, error: null as unknown }),
            (error: unknown) => ({ ms: Date.now() - started, error }),
          ),
        ),
      );
      // Ours, or the driver's connect timeout (also queryTimeout) when it fires first.
      for (const outcome of outcomes) {
        expect(outcome.error).toBeInstanceOf(Error);
        expect(outcome.ms).toBeLessThan(QUERY_TIMEOUT_S * 1000 + 1500);
      }
      // A second wave while still black-holed times out too (it does not wait behind the first).
      const again = Date.now();
      await expect(backend.metrics()).rejects.toBeInstanceOf(Error);
      expect(Date.now() - again).toBeLessThan(QUERY_TIMEOUT_S * 1000 + 1500);

      // The server did not wait the partition out: what the black hole held never answers
      // again, unclosed. Had a timed-out connection gone back to the pool, it would still
      // be there, and so would every one after it; each that times out is destroyed instead,
      // and the pool fills with new connections.
      proxy.restore({ forgetHeld: true });
      const restoredAt = Date.now();
      for (;;) {
        const ok = await backend.metrics().then(
          () => true,
          (error: unknown) => {
            expect(error).toBeInstanceOf(Error);
            return false;
          },
        );
        if (ok) break;
        expect(Date.now() - restoredAt).toBeLessThan((POOL_SIZE + 2) * QUERY_TIMEOUT_S * 1000 + 2000);
      }
      const recoveredMs = Date.now() - restoredAt;
      // More calls than the pool has slots, all at once: none is left to a dead connection.
      const after = await Promise.all(Array.from({ length: CALLS }, () => backend.metrics()));
      for (const metrics of after) expect(metrics).toMatchObject({ total: 0 });
      console.log(
        `[${target.name}] pool of ${POOL_SIZE}, queryTimeout ${QUERY_TIMEOUT_S} s: ${CALLS} calls during the black hole failed after ` +
          `${outcomes.map((o) => o.ms).join(', ')} ms; after restore (held connections forgotten) the first call answered ${recoveredMs} ms later`,
      );
    } finally {
      // The forgotten connections close only with the proxy; the tables are dropped directly.
      await proxy.stop();
      await backend.close().catch(() => undefined);
      const direct = await TaskTable.open(target.options, prefix);
      await direct.dropAndClose();
    }
  }, 60_000);
});
