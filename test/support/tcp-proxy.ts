import * as net from 'node:net';

interface Pair {
  client: net.Socket;
  upstream: net.Socket | null;
  /** When the first bytes held by a black hole came (for restore's backoff). */
  stalledAt?: number;
  held?: Buffer[];
  onHeld?: (chunk: Buffer) => void;
  /** Held by a black hole that ended with forgetHeld: never flows again. */
  forgotten?: boolean;
}

/**
 * A TCP proxy in front of a database server, to simulate an outage: `cut()`
 * destroys every open connection and refuses new ones (they are accepted and reset
 * at once, like a server that went away); `blackhole()` lets nothing through in either
 * direction and resets nothing (a partition that drops packets: queries hang, new
 * connections never answer); `restore()` lets connections through again, and what a
 * black hole held back flows on, as TCP retransmission would deliver it. TCP doubles its
 * retransmission timeout after each try, so after a partition a connection's next try comes
 * up to as long after the end as its bytes had been stalled, and the bytes that stalled first
 * are often delivered last: `restore({ backoff: f })` models that by releasing each stalled
 * connection `f` times its stalled time after the end (the rest at once).
 * `restore({ forgetHeld: true })` instead models a partition the server (or a NAT on the
 * way) did not wait out: the connections the black hole held never answer again, and
 * are never closed either; only new connections get through.
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private isCut = false;
  private isBlackholed = false;
  /** Connection pairs, to stop and restart their flow. */
  private readonly pairs = new Set<Pair>();
  /** Connections accepted and passed through. */
  passed = 0;
  /** Connection attempts refused while cut. */
  refused = 0;
  /** When each refused attempt came (epoch ms). */
  readonly refusedAt: number[] = [];

  constructor(private readonly target: { host: string; port: number }) {}

  /** Listens on a free port of 127.0.0.1; resolves with it. */
  async start(): Promise<number> {
    const server = net.createServer((client) => this.onConnection(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return (server.address() as net.AddressInfo).port;
  }

  get cutOff(): boolean {
    return this.isCut;
  }

  cut(): void {
    this.isCut = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /** Stops every byte in both directions, without closing anything. */
  blackhole(): void {
    this.isBlackholed = true;
    for (const pair of this.pairs) {
      pair.client.unpipe();
      pair.upstream?.unpipe();
      pair.upstream?.pause();
      // What the client sends meanwhile is held here, noting when the first of it came.
      pair.held = [];
      pair.onHeld = (chunk) => {
        pair.stalledAt ??= Date.now();
        pair.held!.push(chunk);
      };
      pair.client.on('data', pair.onHeld);
    }
  }

  get blackholed(): boolean {
    return this.isBlackholed;
  }

  restore(opts: { backoff?: number; forgetHeld?: boolean } = {}): void {
    this.isCut = false;
    if (!this.isBlackholed) return;
    this.isBlackholed = false;
    const now = Date.now();
    for (const pair of this.pairs) {
      if (opts.forgetHeld) {
        // The server side is gone; the client side stays open and silent.
        pair.forgotten = true;
        this.pairs.delete(pair);
        pair.upstream?.destroy();
        continue;
      }
      const delay = opts.backoff && pair.stalledAt !== undefined ? (now - pair.stalledAt) * opts.backoff : 0;
      if (delay > 0) setTimeout(() => this.flow(pair), delay).unref();
      else this.flow(pair);
    }
  }

  async stop(): Promise<void> {
    this.cut();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private onConnection(client: net.Socket): void {
    if (this.isCut) {
      this.refused++;
      this.refusedAt.push(Date.now());
      client.resetAndDestroy();
      return;
    }
    this.passed++;
    const pair: Pair = { client, upstream: null };
    this.pairs.add(pair);
    this.track(client, pair);
    // A connection made during a black hole is held: its upstream opens when the hole ends.
    if (this.isBlackholed) {
      pair.stalledAt = Date.now();
      client.pause();
    } else this.flow(pair);
  }

  private flow(pair: Pair): void {
    if (pair.client.destroyed || this.isBlackholed) return;
    if (!pair.upstream) {
      pair.upstream = net.connect(this.target.port, this.target.host);
      this.track(pair.upstream, pair);
    }
    if (pair.onHeld) pair.client.off('data', pair.onHeld);
    for (const chunk of pair.held ?? []) pair.upstream.write(chunk);
    pair.held = undefined;
    pair.onHeld = undefined;
    pair.stalledAt = undefined;
    pair.client.pipe(pair.upstream);
    pair.upstream.pipe(pair.client);
    pair.client.resume();
    pair.upstream.resume();
  }

  private track(socket: net.Socket, pair: Pair): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.pairs.delete(pair);
      if (pair.forgotten) return;
      for (const other of [pair.client, pair.upstream]) if (other && other !== socket) other.destroy();
    });
  }
}
