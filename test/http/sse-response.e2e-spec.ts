import http from 'node:http';
import { AddressInfo } from 'node:net';
import { coalesceWritesPerTurn } from '../../lib/stream/sse-response';

/**
 * The write pressure of a stream's response (coalesceWritesPerTurn) on a real socket:
 * what a turn may hand the response before it counts as backed up, and the 'drain'
 * that follows once the joined write went out.
 */
describe('SSE response write room', () => {
  let server: http.Server;
  let url: string;
  let next: (response: http.ServerResponse) => void;

  beforeAll(async () => {
    server = http.createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.flushHeaders();
      next(response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** A response on a reading client, and what that client received. */
  async function open(): Promise<{ response: http.ServerResponse; received: () => string; close: () => void }> {
    const served = new Promise<http.ServerResponse>((resolve) => (next = resolve));
    let body = '';
    const request = http.get(url, { agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
    });
    request.on('error', () => undefined);
    const response = await served;
    return { response, received: () => body, close: () => request.destroy() };
  }

  /** Writes 1 KiB strings until one is refused; answers how many bytes were accepted. */
  function writeUntilRefused(response: http.ServerResponse, line: (i: number) => string): number {
    let accepted = 0;
    for (let i = 0; i < 1024; i++) {
      const chunk = line(i);
      accepted += chunk.length;
      if (!response.write(chunk)) return accepted;
    }
    throw new Error('never refused');
  }

  const line = (i: number) => `data: ${String(i).padStart(6, '0')} ${'x'.repeat(1009)}\n\n`;

  it('takes a whole page (roomBytes) in a turn before it counts as backed up, then drains and delivers it in order', async () => {
    const { response, received, close } = await open();
    try {
      const pressure = coalesceWritesPerTurn(response, 64 * 1024);
      expect(pressure.backedUp).toBe(false);
      const accepted = writeUntilRefused(response, line);
      expect(accepted).toBeGreaterThanOrEqual(64 * 1024);
      expect(accepted).toBeLessThan(64 * 1024 + 2048);
      expect(pressure.backedUp).toBe(true);
      await new Promise<void>((resolve) => response.once('drain', resolve));
      expect(pressure.backedUp).toBe(false);
      const count = accepted / line(0).length;
      const expected = Array.from({ length: count }, (_, i) => line(i)).join('');
      const deadline = Date.now() + 5000;
      while (received().length < expected.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(received()).toBe(expected);
    } finally {
      close();
    }
  });

  it("counts as backed up at the socket's high-water mark when no larger room is given", async () => {
    const { response, close } = await open();
    try {
      const pressure = coalesceWritesPerTurn(response);
      const accepted = writeUntilRefused(response, line);
      expect(accepted).toBeGreaterThanOrEqual(response.writableHighWaterMark);
      expect(accepted).toBeLessThan(response.writableHighWaterMark + 2048);
      expect(pressure.backedUp).toBe(true);
      await new Promise<void>((resolve) => response.once('drain', resolve));
      expect(pressure.backedUp).toBe(false);
    } finally {
      close();
    }
  });
});
