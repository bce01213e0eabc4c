import net from 'node:net';
import { TaskEventHub } from '../../lib/stream/task-event-hub';
import { HttpApp, createHttpApp, gate, startHeld } from '../support/http-app';

/** Resolves once `condition` holds, polling; fails after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Heap in use after a full collection (run jest under `node --expose-gc` for a stable figure). */
function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

/**
 * A client that sends the SSE request from `localAddress` and never reads: the
 * socket is paused before the answer arrives, so the kernel buffers fill and
 * the server's writes back up.
 */
function silentClient(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => {
      socket.pause();
      socket.write(`GET /tasks/dashboard/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

const MB = 1024 * 1024;

describe('SSE stream bounds', () => {
  describe('200 clients that do not read while 3,000 tasks are pending', () => {
    let h: HttpApp;
    const sockets: net.Socket[] = [];

    beforeAll(async () => {
      h = await createHttpApp({ maxConcurrentTasks: 1, displayFuncArgs: true }, { tuning: { keepAliveMs: 60_000, metricsIntervalMs: 60_000 } });
      await startHeld(h.manager, 'bounds-hold');
      // A record of about 1 KB each, as a task with a few arguments has.
      const payload = 'x'.repeat(700);
      for (let i = 0; i < 3000; i++) h.manager.addTask('Jobs.ok', [`${i}-${payload}`]);
    });
    afterAll(async () => {
      sockets.forEach((s) => s.destroy());
      gate('bounds-hold').open();
      await h.close();
    });

    it('keeps the server heap bounded', async () => {
      const hub = h.app.get(TaskEventHub);
      const port = Number(new URL(h.url).port);
      const before = heapAfterGc();
      // 20 loopback addresses, 10 streams each: within the default per-address cap.
      for (let i = 0; i < 200; i++) sockets.push(await silentClient(port, `127.0.0.${2 + (i % 20)}`));
      const t0 = Date.now();
      await until(() => hub.stats.clients === 200, 100_000);
      process.stdout.write(`connected in ${Date.now() - t0} ms\n`);
      await new Promise((resolve) => setImmediate(resolve));
      const growth = heapAfterGc() - before;
      process.stdout.write(`heap growth with 200 silent clients: ${(growth / MB).toFixed(1)} MB\n`);
      expect(growth).toBeLessThan(200 * MB);
    }, 120_000);
  });
});
