import net from 'node:net';
import { createHttpApp } from '../support/http-app';
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', (d) => (out += d));
    setTimeout(() => {
      s.destroy();
      resolve(out);
    }, 500);
  });
}
it('probe', async () => {
  for (const platform of ['fastify', 'express'] as const) {
    const h = await createHttpApp({}, { platform });
    const port = Number(new URL(h.url).port);
    const body = '{"a":1}';
    const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    for (const p of ['/tasks/metrics/extra', '/nothing', '/tasks/metrics']) {
      console.log(
        platform,
        p,
        JSON.stringify(await raw(port, `OPTIONS ${p} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n${chunked}`)),
      );
    }
    await h.close();
  }
});
