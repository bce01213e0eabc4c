import http from 'node:http';
import net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { InvalidOptionError, TaskManagerModule, TaskManagerOptions } from '../../lib';
import { resolveOptions } from '../../lib/options/resolve-options';
import { TaskEventHub } from '../../lib/stream/task-event-hub';
import { HttpApp, createHttpApp, gate, startHeld } from '../support/http-app';
import { describeEachPlatform } from '../support/http-platforms';
import { SseEvent, SseReader } from '../support/http-sse';

/** Resolves once `condition` holds, polling; fails after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// A real collection before each reading: without it the figure counted whatever garbage the
// worker process had not collected yet (from +344 MB to -114 MB in jest workers for the same code).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after a full collection. */
function heapAfterGc(): number {
  gc();
  gc();
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

/** A stream request from `localAddress`: its status, and its body when it was refused. */
function openFrom(url: string, localAddress: string): Promise<{ status: number; body: unknown; close: () => void }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { Accept: 'text/event-stream' }, agent: false, localAddress }, (response) => {
      const close = () => request.destroy();
      if (response.statusCode === 200) return resolve({ status: 200, body: null, close });
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text), close }));
    });
    request.on('error', reject);
  });
}

const isTask = (e: SseEvent) => e.data !== undefined && e.event === undefined;
const MB = 1024 * 1024;

describeEachPlatform('SSE stream bounds', (platform) => {
  describe('200 clients that do not read while 3,000 tasks are pending', () => {
    let h: HttpApp;
    const sockets: net.Socket[] = [];

    beforeAll(async () => {
      h = await createHttpApp(
        { maxConcurrentTasks: 1, displayFuncArgs: true },
        { platform, tuning: { keepAliveMs: 60_000, metricsIntervalMs: 60_000 } },
      );
      await startHeld(h.manager, `bounds-hold-${platform}`);
      // A record of about 1 KB each, as a task with a few arguments has.
      const payload = 'x'.repeat(700);
      for (let i = 0; i < 3000; i++) h.manager.addTask('Jobs.ok', [`${i}-${payload}`]);
    });
    afterAll(async () => {
      sockets.forEach((s) => s.destroy());
      gate(`bounds-hold-${platform}`).open();
      await h.close();
    });

    it('keeps the server heap bounded', async () => {
      const hub = h.app.get(TaskEventHub);
      const port = Number(new URL(h.url).port);
      const before = heapAfterGc();
      const rssBefore = process.memoryUsage().rss;
      // 20 loopback addresses, 10 streams each: within the default per-address cap.
      for (let i = 0; i < 200; i++) sockets.push(await silentClient(port, `127.0.0.${2 + (i % 20)}`));
      await until(() => hub.stats.clients === 200, 100_000);
      await new Promise((resolve) => setImmediate(resolve));
      const growth = heapAfterGc() - before;
      const rssGrowth = process.memoryUsage().rss - rssBefore;
      process.stdout.write(`200 silent clients: heap +${(growth / MB).toFixed(1)} MB, rss +${(rssGrowth / MB).toFixed(1)} MB\n`);
      expect(growth).toBeLessThan(100 * MB);
    }, 120_000);

    it('still sends a reading client the bounded first batch, the resync hint, then live changes', async () => {
      const reader = await SseReader.open(`${h.url}/tasks/dashboard/stream`);
      try {
        const first: SseEvent[] = [];
        for (let i = 0; i < 1000; i++) first.push(await reader.waitFor(isTask));
        const records = first.map((e) => JSON.parse(e.data!) as { task_id: string; status: string });
        expect(records[0].status).toBe('running');
        expect(records.slice(1).every((r) => r.status === 'pending')).toBe(true);
        expect(new Set(records.map((r) => r.task_id)).size).toBe(1000);
        const ids = first.map((e) => BigInt(e.id!));
        expect(ids.every((id, i) => i === 0 || id > ids[i - 1])).toBe(true);
        // Oldest first: the live tasks the manager lists first are the ones sent.
        expect(records.map((r) => r.task_id)).toEqual(
          h.manager
            .liveTasks()
            .slice(0, 1000)
            .map((r) => r.task_id),
        );

        // The hint may come in a later write than the batch's last task event (sends are split into turns).
        const hint = await reader.waitFor((e) => e.event === 'resync');
        expect(reader.events.indexOf(hint)).toBe(reader.events.indexOf(first[999]) + 1);
        expect(JSON.parse(hint.data!)).toEqual({ latest_id: Number(hint.id), sent: 1000, omitted: 2001 });
        expect(BigInt(hint.id!)).toBeGreaterThanOrEqual(ids[999]);

        const held = records[0].task_id;
        gate(`bounds-hold-${platform}`).open();
        const done = await reader.waitFor(
          (e) => isTask(e) && JSON.parse(e.data!).task_id === held && JSON.parse(e.data!).status === 'success',
          20_000,
        );
        expect(BigInt(done.id!)).toBeGreaterThan(BigInt(hint.id!));
      } finally {
        reader.close();
      }
    }, 60_000);
  });

  describe('a first batch larger than the socket takes', () => {
    let h: HttpApp;

    beforeAll(async () => {
      h = await createHttpApp({ maxConcurrentTasks: 1, displayFuncArgs: true, streamFirstBatchSize: 5000 }, { platform });
      await startHeld(h.manager, `paged-hold-${platform}`);
      const payload = 'y'.repeat(2000);
      for (let i = 0; i < 2000; i++) h.manager.addTask('Jobs.ok', [`${i}-${payload}`]);
    });
    afterAll(async () => {
      gate(`paged-hold-${platform}`).open();
      await h.close();
    });

    it('reaches a client that paused and then reads, whole and in order, page after page', async () => {
      const hub = h.app.get(TaskEventHub);
      const responses: http.ServerResponse[] = [];
      (h.server as http.Server).prependListener('request', (_request, response) => responses.push(response));
      const reader = await SseReader.open(`${h.url}/tasks/dashboard/stream`, {}, { paused: true });
      try {
        await until(() => hub.stats.clients === 1);
        // Paused: the kernel buffers fill with part of the batch; the rest waits for 'drain'.
        await until(() => responses[0]?.writableNeedDrain === true);
        reader.resume();
        const first: SseEvent[] = [];
        for (let i = 0; i < 2001; i++) first.push(await reader.waitFor(isTask, 20_000));
        const expected = h.manager.liveTasks().map((r) => r.task_id);
        expect(first.map((e) => JSON.parse(e.data!).task_id)).toEqual(expected);
        const ids = first.map((e) => BigInt(e.id!));
        expect(ids.every((id, i) => i === 0 || id > ids[i - 1])).toBe(true);
        expect(reader.events.some((e) => e.event === 'resync')).toBe(false);
        gate(`paged-hold-${platform}`).open();
        await reader.waitFor((e) => isTask(e) && JSON.parse(e.data!).task_id === expected[0] && JSON.parse(e.data!).status === 'success', 20_000);
      } finally {
        reader.close();
      }
    }, 60_000);
  });

  describe('caps on open streams', () => {
    let h: HttpApp;
    let url: string;
    const open: { close: () => void }[] = [];

    beforeAll(async () => {
      h = await createHttpApp({ maxStreamsPerAddress: 3, maxStreams: 5 }, { platform });
      url = `${h.url}/tasks/dashboard/stream`;
    });
    afterEach(() => open.splice(0).forEach((s) => s.close()));
    afterAll(() => h.close());

    const accepted = async (address: string) => {
      const stream = await openFrom(url, address);
      open.push(stream);
      expect(stream.status).toBe(200);
      return stream;
    };

    it("answers 429 with Nest's body to one stream more than an address may hold, and 503 past the total", async () => {
      for (let i = 0; i < 3; i++) await accepted('127.0.0.2');
      const fourth = await openFrom(url, '127.0.0.2');
      expect(fourth.status).toBe(429);
      expect(fourth.body).toEqual({ statusCode: 429, message: expect.stringContaining('at most 3'), error: 'Too Many Requests' });

      for (let i = 0; i < 2; i++) await accepted('127.0.0.3');
      const sixth = await openFrom(url, '127.0.0.4');
      expect(sixth.status).toBe(503);
      expect(sixth.body).toEqual({ statusCode: 503, message: expect.any(String), error: 'Service Unavailable' });
    });

    it('gives a slot back when its stream closes', async () => {
      const hub = h.app.get(TaskEventHub);
      await until(() => hub.stats.clients === 0);
      const streams = [await accepted('127.0.0.5'), await accepted('127.0.0.5'), await accepted('127.0.0.5')];
      expect((await openFrom(url, '127.0.0.5')).status).toBe(429);
      streams[0].close();
      await until(() => hub.stats.clients === 2);
      await accepted('127.0.0.5');
    });
  });

  describe('options', () => {
    it('defaults to 10 streams per address, 1,000 in total and a first batch of 1,000 tasks', () => {
      expect(resolveOptions({})).toMatchObject({ maxStreamsPerAddress: 10, maxStreams: 1000, streamFirstBatchSize: 1000 });
    });

    it.each([
      [{ maxStreamsPerAddress: 0 }, /"maxStreamsPerAddress": expected an integer of at least 1, got 0/],
      [{ maxStreams: 2.5 }, /"maxStreams": expected an integer of at least 1/],
      [{ streamFirstBatchSize: '100' }, /"streamFirstBatchSize": expected an integer of at least 1/],
    ])('rejects %j', (input, message) => {
      expect(() => resolveOptions(input as never)).toThrow(InvalidOptionError);
      expect(() => resolveOptions(input as never)).toThrow(message);
    });

    it('is refused by TaskManagerModule, which mounts no stream', () => {
      expect(() => TaskManagerModule.forRoot({ maxStreams: 5 } as TaskManagerOptions)).toThrow(/"maxStreams": expected nothing/);
    });
  });
});
