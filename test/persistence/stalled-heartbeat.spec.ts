/**
 * The lease a heartbeat records when its statement was held up by a stalled network
 * (a proxy that black-holes packets) for longer than the lease itself: it must still
 * count from when the database wrote it, so neither a peer nor the instance's own
 * recovery takes the instance's live tasks for orphans once the stall is over.
 */
import { TypeOrmTaskBackend } from '../../lib/persistence/typeorm';
import { serverAddress, throughPort } from '../support/crash-db';
import { describeEachDatabase, uniquePrefix } from '../support/databases';
import { blankTask } from '../support/task-data';
import { TcpProxy } from '../support/tcp-proxy';

const LEASE_SECONDS = 1;

describeEachDatabase(
  'a heartbeat delayed past its lease',
  (target) => {
    const prefix = uniquePrefix();
    let direct: TypeOrmTaskBackend;
    let stalled: TypeOrmTaskBackend;
    const proxy = new TcpProxy(serverAddress(target.options));

    beforeAll(async () => {
      const port = await proxy.start();
      direct = new TypeOrmTaskBackend(target.options, { tablePrefix: prefix });
      await direct.open();
      stalled = new TypeOrmTaskBackend(throughPort(target.options, port), { tablePrefix: prefix });
      await stalled.open();
    });
    afterAll(async () => {
      proxy.restore();
      await stalled.close();
      await direct.dropTables();
      await direct.close();
      await proxy.stop();
    });

    it("records a live lease, so neither a peer nor the instance itself claims the instance's tasks", async () => {
      const task = blankTask({ durable: true, owner: 'A', status: 'running', startTime: Date.now() });
      await stalled.saveBatch([task]);
      await stalled.heartbeat('A', LEASE_SECONDS);

      proxy.blackhole();
      const beat = stalled.heartbeat('A', LEASE_SECONDS);
      await new Promise((resolve) => setTimeout(resolve, LEASE_SECONDS * 1000 + 1000));
      proxy.restore();
      await beat;

      const lease = (await direct.listInstances()).find((i) => i.id === 'A')!;
      const peer = await direct.claimOrphans('B', 10);
      const own = await stalled.claimOrphans('A', 10);
      console.log(
        `[${target.name}] lease after the stalled heartbeat ends ${lease.leaseUntil - Date.now()} ms from now; claimed by a peer ${peer.length}, by itself ${own.length}`,
      );
      expect(peer.map((t) => t.id)).toEqual([]);
      expect(own.map((t) => t.id)).toEqual([]);
    });
  },
  ['postgres', 'mysql'],
);
