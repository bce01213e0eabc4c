import { trustProxySetting } from '../web/http-adapter';
import type { HttpRequest } from '../web/http-types';

/**
 * The address the login throttle (and the stream caps) key on. It is the TCP peer
 * (`request.socket.remoteAddress`) unless the app told its platform how many
 * proxies, or which, to trust: a hop count (express `app.set('trust proxy', 1)`,
 * Fastify `new FastifyAdapter({ trustProxy: 1 })`) or a list of addresses/subnets
 * (`'loopback'`, `['10.0.0.0/8']`). Then it is `request.ip`, the address that proxy
 * saw. With `true` both platforms take the leftmost `X-Forwarded-For` entry, which any
 * client can write, so every request could claim a fresh address: that setting (and
 * a trust function) is not followed here.
 */
export function clientAddress(request: HttpRequest): string {
  const socketAddress = request.socket?.remoteAddress ?? 'unknown';
  const setting = trustProxySetting(request);
  const boundedTrust =
    (typeof setting === 'number' && setting > 0) ||
    (typeof setting === 'string' && setting.trim() !== '') ||
    (Array.isArray(setting) && setting.length > 0);
  return boundedTrust && typeof request.ip === 'string' && request.ip !== '' ? request.ip : socketAddress;
}
