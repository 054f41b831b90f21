// A scripted PostgreSQL server on loopback for the client's fault tests: it speaks whatever the
// test tells it to (real recorded frames, or crafted broken ones) so the client's state machine
// can be driven through edges a real server never shows on demand.
import { createServer, type Server, type Socket } from 'node:net';
import { loadFixture, serverMessages } from './pg-fixtures.ts';

export type Incoming = { type: string | null; body: Buffer };

export type ServerIO = {
  socket: Socket;
  /** The next message from the client (type null for the startup-phase ones). */
  read(): Promise<Incoming>;
  /** Reads messages until the n-th Sync; returns them all. */
  readUntilSync(n?: number): Promise<Incoming[]>;
  write(bytes: Buffer): void;
  /** One byte per event-loop turn: the client sees every possible split. */
  writeByByte(bytes: Buffer): Promise<void>;
  /** Everything the client sent so far. */
  received: Incoming[];
};

export function frame(type: string, body: Buffer | string = Buffer.alloc(0)): Buffer {
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeInt32BE(data.length + 4, 1);
  return Buffer.concat([head, data]);
}

export const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

export const auth = (code: number, data: Buffer | string = Buffer.alloc(0)): Buffer => frame('R', Buffer.concat([int32(code), Buffer.from(data)]));

// Real frames recorded from PostgreSQL 15 (the "ours" fixture): the startup parameters, the cancel
// key, and the answers to "SELECT 1 AS a" and to "SELECT 1/0".
const recorded = serverMessages(loadFixture('ours').sessions[0]?.server ?? Buffer.alloc(0));
const indexOf = (type: string, from = 0): number => recorded.findIndex((m, i) => i >= from && m.type === type);
const firstZ = indexOf('Z');
export const REAL = {
  parameters: Buffer.concat(recorded.slice(0, firstZ).filter((m) => m.type === 'S').map((m) => m.bytes)),
  keyData: recorded.find((m) => m.type === 'K')?.bytes ?? Buffer.alloc(0),
  ready: recorded[firstZ]?.bytes ?? Buffer.alloc(0),
  /** ParseComplete, BindComplete, RowDescription(a int4), DataRow('1'), CommandComplete, ReadyForQuery. */
  selectOne: Buffer.alloc(0),
  /** ParseComplete, ErrorResponse 22012, ReadyForQuery. */
  divisionByZero: Buffer.alloc(0),
};
{
  const error = indexOf('E');
  REAL.divisionByZero = Buffer.concat(recorded.slice(error - 1, error + 2).map((m) => m.bytes));
  const before = recorded.slice(0, error - 1);
  let start = before.length - 1;
  while (start > 0 && before[start - 1]?.type !== 'Z') start--;
  REAL.selectOne = Buffer.concat(before.slice(start).map((m) => m.bytes));
}

/** The server side of a trust login: AuthenticationOk, the real parameters, a cancel key, ReadyForQuery. */
export async function trustLogin(io: ServerIO, options: { keyData?: boolean } = {}): Promise<Incoming> {
  const startup = await io.read();
  io.write(Buffer.concat([auth(0), REAL.parameters, options.keyData === false ? Buffer.alloc(0) : REAL.keyData, REAL.ready]));
  return startup;
}

export type FakeServer = { port: number; connections: number; close(): Promise<void> };

export async function startFakeServer(script: (io: ServerIO, index: number) => Promise<void>): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const index = connections++;
    let buffer = Buffer.alloc(0);
    let startup = true;
    const waiting: (() => void)[] = [];
    const received: Incoming[] = [];
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (const wake of waiting.splice(0)) wake();
    });
    socket.on('close', () => {
      for (const wake of waiting.splice(0)) wake();
    });
    const read = async (): Promise<Incoming> => {
      for (;;) {
        if (startup && buffer.length >= 8) {
          const length = buffer.readInt32BE(0);
          if (buffer.length >= length) {
            const code = buffer.readInt32BE(4);
            const body = buffer.subarray(4, length);
            buffer = buffer.subarray(length);
            if (code !== 80877103) startup = false;
            const message = { type: null, body };
            received.push(message);
            return message;
          }
        } else if (!startup && buffer.length >= 5) {
          const length = buffer.readInt32BE(1);
          if (buffer.length >= 1 + length) {
            const message = { type: String.fromCharCode(buffer[0] ?? 0), body: buffer.subarray(5, 1 + length) };
            buffer = buffer.subarray(1 + length);
            received.push(message);
            return message;
          }
        }
        if (socket.destroyed) throw new Error('client went away');
        await new Promise<void>((wake) => waiting.push(wake));
      }
    };
    const io: ServerIO = {
      socket,
      read,
      readUntilSync: async (n = 1) => {
        const out: Incoming[] = [];
        for (let syncs = 0; syncs < n; ) {
          const m = await read();
          out.push(m);
          if (m.type === 'S') syncs++;
        }
        return out;
      },
      write: (bytes) => void socket.write(bytes),
      writeByByte: async (bytes) => {
        for (let i = 0; i < bytes.length; i++) {
          socket.write(bytes.subarray(i, i + 1));
          await new Promise((r) => setImmediate(r));
        }
      },
      received,
    };
    script(io, index).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
