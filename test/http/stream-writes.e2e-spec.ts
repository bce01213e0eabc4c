import net from 'node:net';
import { HttpApp, createHttpApp } from '../support/http-app';
import { describeEachPlatform } from '../support/http-platforms';
import { SseReader } from '../support/http-sse';

/**
 * Nest sends each SSE message with its own write; without coalescing each event
 * costs a socket write (a syscall) per client. The stream holds the socket corked
 * for the rest of the event-loop turn, so a burst leaves in a handful of writes.
 */
describeEachPlatform('SSE stream writes', (platform) => {
  let h: HttpApp;

  beforeAll(async () => {
    h = await createHttpApp({ maxConcurrentTasks: 50 }, { platform, tuning: { flushWindowMs: 20, metricsIntervalMs: 60_000, keepAliveMs: 60_000 } });
  });
  afterAll(() => h.close());

  it('sends a burst of events in far fewer socket writes than events, every event intact', async () => {
    const reader = await SseReader.open(`${h.url}/tasks/dashboard/stream`);
    const clientPort = (reader.response.socket as net.Socket).localPort;
    const writes = { calls: 0 };
    const proto = net.Socket.prototype as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
    const originals = { _write: proto._write, _writev: proto._writev };
    for (const name of ['_write', '_writev'] as const) {
      proto[name] = function (this: net.Socket, ...args: unknown[]) {
        if (this.remotePort === clientPort) writes.calls++;
        return originals[name].apply(this, args);
      };
    }
    try {
      const ids = Array.from({ length: 300 }, (_, i) => h.manager.addTask('Jobs.ok', [`burst-${i}`]));
      const done = new Set<string>();
      while (done.size < ids.length) {
        const event = await reader.next();
        const record = JSON.parse(event.data!) as { task_id: string; status: string };
        if (record.status === 'success') done.add(record.task_id);
      }
      expect([...done].sort()).toEqual([...ids].sort());
      // One write per event would be >= 300; a few flush windows' worth of turns is the expectation.
      expect(writes.calls).toBeGreaterThan(0);
      expect(writes.calls).toBeLessThan(60);
    } finally {
      Object.assign(proto, originals);
      reader.close();
    }
  });
});
