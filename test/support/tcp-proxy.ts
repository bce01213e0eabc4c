import * as net from 'node:net';

/**
 * A TCP proxy in front of a database server, to simulate an outage: `cut()`
 * destroys every open connection and refuses new ones (they are accepted and reset
 * at once, like a server that went away); `restore()` lets connections through again.
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private isCut = false;
  /** Connections accepted and passed through. */
  passed = 0;
  /** Connection attempts refused while cut. */
  refused = 0;
  /** When each refused attempt came (epoch ms). */
  readonly refusedAt: number[] = [];

  constructor(
    private readonly target: { host: string; port: number },
  ) {}

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

  restore(): void {
    this.isCut = false;
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
    const upstream = net.connect(this.target.port, this.target.host);
    const pair = [client, upstream];
    for (const socket of pair) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        for (const other of pair) if (other !== socket) other.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
