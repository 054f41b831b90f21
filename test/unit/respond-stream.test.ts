// The responder's streamed bodies over a real socket: chunks are pulled only as the socket takes
// them, a written chunk is not kept alive while the stream goes on (a long-lived stream must not
// grow), and the registry ends live tails on shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createStreamRegistry, send, type StreamOutcome } from '../../src/http/respond.ts';
import { stream, type StreamBody } from '../../src/http/reply.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function serve(t: { after(fn: () => unknown): void }, body: StreamBody, endless: boolean, registry = createStreamRegistry()): Promise<{ port: number; outcome: Promise<StreamOutcome> }> {
  let outcome: Promise<StreamOutcome> = Promise.reject(new Error('no request'));
  outcome.catch(() => {});
  const server: Server = createServer((_req, res) => {
    outcome = send(res, stream('text/plain', body, { endless }), {}, registry).streamed ?? outcome;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return { port: (server.address() as AddressInfo).port, get outcome() { return outcome; } } as { port: number; outcome: Promise<StreamOutcome> };
}

test('chunks already written are not kept alive while the stream goes on', async (t) => {
  const refs: WeakRef<Uint8Array>[] = [];
  let sent = 0;
  let release = (): void => {};
  const hold = new Promise<void>((resolve) => (release = resolve));
  const body: StreamBody = {
    async next() {
      if (sent === 200) {
        await hold; // the stream stays open, waiting for more
        return null;
      }
      sent += 1;
      const chunk = new Uint8Array(64 * 1024).fill(65);
      refs.push(new WeakRef(chunk));
      return chunk;
    },
    close() {},
  };
  const server = await serve(t, body, true);
  t.after(release);
  const res = await fetch(`http://127.0.0.1:${server.port}/`);
  const reader = res.body?.getReader();
  let got = 0;
  while (got < 200 * 64 * 1024) got += (await reader?.read())?.value?.length ?? 0;
  for (let i = 0; i < 5; i += 1) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const alive = refs.filter((r) => r.deref() !== undefined).length;
  assert.ok(alive <= 2, `${alive} of 200 written chunks still reachable`);
  release();
  assert.equal((await server.outcome).end, 'complete');
});

test('a body is pulled only as fast as the client reads; the registry ends live tails on shutdown', async (t) => {
  let pulled = 0;
  let closedWith = '';
  const body: StreamBody = {
    next: async () => ((pulled += 1), new Uint8Array(256 * 1024)),
    close: (end) => void (closedWith = end),
  };
  const registry = createStreamRegistry();
  const server = await serve(t, body, true, registry);
  const res = await fetch(`http://127.0.0.1:${server.port}/`);
  const reader = res.body?.getReader();
  await reader?.read();
  let settled = pulled;
  for (let quiet = 0; quiet < 5; ) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    quiet = pulled === settled ? quiet + 1 : 0;
    settled = pulled;
  }
  assert.ok(pulled < 100, `${pulled} chunks of 256 KiB pulled for a client that read one`);
  assert.equal(registry.size, 1);
  registry.endAll('endless');
  const outcome = await server.outcome;
  assert.equal(outcome.end, 'shutdown');
  assert.equal(closedWith, 'shutdown');
  assert.equal(registry.size, 0);
});
