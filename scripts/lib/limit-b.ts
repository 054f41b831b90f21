// "Limit B": the least a webhook receiver must do, on bare node:http — read the body, verify the
// HMAC over the raw bytes (with a KeyObject, as the service does), JSON.parse, answer 200. No
// validation, storage, logs or metrics. The bench runs it as a child process beside the service, so
// the service's speed is read as a ratio of this on the same machine at the same moment.
// It announces its port with the same JSON "listening" line as the service.
import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const key = createSecretKey(Buffer.from(process.env['WEBHOOK_SECRET'] ?? '', 'utf8'));
const OK = '{"status":"ok"}';
const BAD = '{"detail":"invalid signature"}';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const header = req.headers['x-signature'];
    const given = Buffer.from(typeof header === 'string' ? header : '', 'hex');
    const expected = createHmac('sha256', key).update(body).digest();
    let status = 401;
    if (given.length === expected.length && timingSafeEqual(given, expected)) {
      try {
        JSON.parse(body.toString('utf8'));
        status = 200;
      } catch {
        status = 422;
      }
    }
    const text = status === 200 ? OK : BAD;
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
    res.end(text);
  });
});

server.listen(Number(process.env['PORT'] ?? 0), process.env['HOST'] ?? '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port })}\n`);
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
