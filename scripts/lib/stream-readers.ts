// A child process for the bench: opens N live tails (GET /messages/stream) on raw sockets and
// reads them as fast as they come, so the bench's own load generator does not share a thread
// with them. Prints {"ready":N} once every stream has its 200, and {"events","bytes","cut"} when
// its stdin closes (then exits). It does as little as it can per byte: it shares the CPU with the
// service it measures.
//   node scripts/lib/stream-readers.ts PORT COUNT
import { connect, type Socket } from 'node:net';

const port = Number(process.argv[2]);
const count = Number(process.argv[3]);
const MARK = Buffer.from('event: message\n');
const HEAD_END = Buffer.from('\r\n\r\n');
let events = 0;
let bytes = 0;
let cut = 0;
let ready = 0;
let stopping = false;
const sockets: Socket[] = [];

for (let i = 0; i < count; i += 1) {
  const socket = connect(port, '127.0.0.1');
  let head = true;
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (head && chunk.includes(HEAD_END)) {
      head = false;
      ready += 1;
      if (ready === count) process.stdout.write(`${JSON.stringify({ ready })}\n`);
    }
    // Counted per chunk (a mark split across two chunks is missed: the count is a close lower bound).
    for (let at = chunk.indexOf(MARK); at !== -1; at = chunk.indexOf(MARK, at + MARK.length)) events += 1;
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    if (!stopping) cut += 1;
  });
  socket.write('GET /messages/stream HTTP/1.1\r\nHost: bench\r\n\r\n');
  sockets.push(socket);
}

process.stdin.resume();
process.stdin.on('end', () => {
  stopping = true;
  for (const s of sockets) s.destroy();
  process.stdout.write(`${JSON.stringify({ events, bytes, cut })}\n`, () => process.exit(0));
});
