import http from 'node:http';
import { HttpApp, createHttpApp } from '../support/http-app';
import { HttpPlatform, TrustProxy, describeEachPlatform } from '../support/http-platforms';

/** A stream request claiming `forwardedFor`: its status (the stream stays open until `close`). */
function openClaiming(url: string, forwardedFor: string): Promise<{ status: number; close: () => void }> {
  return new Promise((resolve, reject) => {
    const headers = { Accept: 'text/event-stream', 'X-Forwarded-For': forwardedFor };
    const request = http.get(url, { headers, agent: false }, (response) => {
      resolve({ status: response.statusCode ?? 0, close: () => request.destroy() });
      if (response.statusCode !== 200) response.resume();
    });
    request.on('error', reject);
  });
}

async function appTrusting(platform: HttpPlatform, trust: TrustProxy): Promise<HttpApp> {
  return createHttpApp({ maxStreamsPerAddress: 2, maxStreams: 50 }, { platform, trustProxy: trust });
}

describeEachPlatform('stream caps key on the client address the login throttle uses', (platform) => {
  const open: { close: () => void }[] = [];
  let h: HttpApp | undefined;
  afterEach(async () => {
    open.splice(0).forEach((s) => s.close());
    await h?.close();
  });

  it('with trust proxy true, a rotating X-Forwarded-For does not lift the per-address cap', async () => {
    h = await appTrusting(platform, true);
    const statuses: number[] = [];
    for (let i = 1; i <= 4; i++) {
      const stream = await openClaiming(`${h.url}/tasks/dashboard/stream`, `203.0.113.${i}`);
      open.push(stream);
      statuses.push(stream.status);
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
  });

  it('behind one trusted proxy (a hop count), each forwarded client has its own streams', async () => {
    h = await appTrusting(platform, 1);
    const statuses: number[] = [];
    for (const client of ['203.0.113.1', '203.0.113.1', '203.0.113.1', '203.0.113.2']) {
      const stream = await openClaiming(`${h.url}/tasks/dashboard/stream`, client);
      open.push(stream);
      statuses.push(stream.status);
    }
    expect(statuses).toEqual([200, 200, 429, 200]);
  });
});
