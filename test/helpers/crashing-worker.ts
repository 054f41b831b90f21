// A storage worker double for worker-store tests: says hello, answers `ping`, and dies on `stats`
// as a worker would on a fatal error (an abort inside SQLite, running out of memory).
import { parentPort } from 'node:worker_threads';

if (parentPort === null) throw new Error('not a worker');
const port = parentPort;
port.postMessage({ ready: true, migration: null });
port.on('message', (request: { id: number; op: string }) => {
  if (request.op === 'stats') process.exit(7);
  port.postMessage({ id: request.id, ok: true, value: true });
  if (request.op === 'close') port.close();
});
