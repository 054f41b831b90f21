// A TCP proxy on loopback between a client and a server, for fault tests and for recording the
// bytes of a real session: it can freeze (hold every byte, like a network that went silent), thaw,
// and cut every connection. Each connection's traffic can be recorded in order, per direction.
import { connect, createServer, type Server, type Socket } from 'node:net';

export type Chunk = { from: 'client' | 'server'; data: Buffer };

export type Proxy = {
  port: number;
  /** Every proxied connection's chunks, in the order they passed. */
  sessions: Chunk[][];
  freeze(): void;
  thaw(): void;
  /** Destroys every open connection (both sides). */
  cut(): void;
  close(): Promise<void>;
};

export async function startProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<Proxy> {
  let frozen = false;
  const held: (() => void)[] = [];
  const sockets = new Set<Socket>();
  const sessions: Chunk[][] = [];
  const server: Server = createServer((client) => {
    const session: Chunk[] = [];
    sessions.push(session);
    const upstream = connect({ host: targetHost, port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    const pipe = (from: Socket, to: Socket, who: Chunk['from']): void => {
      from.on('data', (data: Buffer) => {
        const forward = (): void => {
          session.push({ from: who, data: Buffer.from(data) });
          to.write(data);
        };
        if (frozen) held.push(forward);
        else forward();
      });
    };
    pipe(client, upstream, 'client');
    pipe(upstream, client, 'server');
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', () => {
        if (frozen) held.push(end);
        else end();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    sessions,
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const forward of held.splice(0)) forward();
    },
    cut: () => {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
