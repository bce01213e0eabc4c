import * as net from 'node:net';

interface Pair {
  client: net.Socket;
  upstream: net.Socket | null;
  /** Held by a black hole that ended with forgetHeld: never flows again. */
  forgotten: boolean;
}

/**
 * A TCP proxy in front of a database server, to simulate an outage: `cut()`
 * destroys every open connection and refuses new ones (they are accepted and reset
 * at once, like a server that went away); `blackhole()` lets nothing through in either
 * direction and resets nothing (a partition that drops packets: queries hang, new
 * connections never answer); `restore()` lets connections through again, and what a
 * black hole held back flows on, as TCP retransmission would deliver it.
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
      pair.client.pause();
      pair.upstream?.unpipe();
      pair.upstream?.pause();
    }
  }

  get blackholed(): boolean {
    return this.isBlackholed;
  }

  restore(options: { forgetHeld?: boolean } = {}): void {
    this.isCut = false;
    if (!this.isBlackholed) return;
    this.isBlackholed = false;
    for (const pair of this.pairs) {
      if (!options.forgetHeld) {
        this.flow(pair);
        continue;
      }
      // The server side is gone; the client side stays open and silent.
      pair.forgotten = true;
      this.pairs.delete(pair);
      pair.upstream?.destroy();
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
    const pair: Pair = { client, upstream: null, forgotten: false };
    this.pairs.add(pair);
    this.track(client, pair);
    // A connection made during a black hole is held: its upstream opens when the hole ends.
    if (this.isBlackholed) client.pause();
    else this.flow(pair);
  }

  private flow(pair: Pair): void {
    if (pair.client.destroyed) return;
    if (!pair.upstream) {
      pair.upstream = net.connect(this.target.port, this.target.host);
      this.track(pair.upstream, pair);
    }
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
