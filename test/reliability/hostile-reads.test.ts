// Seeded hostile requests to the read routes (/messages, /messages/export, /messages/stream,
// /stats): random and mutated query parameters, cursors, Last-Event-IDs, If-None-Match and
// Authorization headers. Each gets 200, 304, 401 or 422 (a stream may also be 503 busy), never
// another 5xx; the service stays ready, its streams all close, and the token is never logged.
// The seed is printed; RELIABILITY_SEED replays a run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { reportFigures } from '../helpers/figures.ts';
import { createPool } from '../helpers/http-client.ts';
import { metricValue, scrape } from '../helpers/metrics.ts';
import { createRandom, seedFromEnv, type Random } from '../helpers/seeded.ts';
import { freshService, message, seed } from '../helpers/service.ts';

const CASES = 3_000;
const TOKEN = 'h0stile-read-T0ken';

/** The status line of a response whose body may never end (a stream); the socket is then closed. */
function headStatus(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const done = (status: number): void => {
      socket.destroy();
      resolve(status);
    };
    socket.on('data', (c: Buffer) => {
      data += c.toString('latin1');
      if (data.includes('\r\n')) done(Number(data.split(' ')[1]));
    });
    socket.on('error', () => done(0));
    socket.on('close', () => done(Number(data.split(' ')[1] ?? 0)));
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n${lines}\r\n`, 'latin1');
  });
}

const PIECES = ['', '0', '1', '-1', '100', '101', '1e3', ' 5', '５', 'abc', '%00', '%FF', '%E2%82%AC', '+', '%2B', '..', "'; DROP TABLE messages; --", '%', '%%', '2025-01-15T10:00:00Z', '2025-02-30T00:00:00Z', '9999-12-31T23:59:59.999999999Z', 'é', 'null', '[]', '{}', 'x'.repeat(3000)];

function mutate(rng: Random, text: string): string {
  const chars = [...text];
  switch (rng.int(0, 4)) {
    case 0: chars.splice(rng.int(0, chars.length), 1); break;
    case 1: chars.splice(rng.int(0, chars.length), 0, rng.pick(['A', '_', '-', '=', '%', '.', '~'])); break;
    case 2: chars[rng.int(0, Math.max(0, chars.length - 1))] = rng.pick(['A', 'z', '0', '-', '_']); break;
    case 3: return chars.reverse().join('');
    default: return chars.slice(0, rng.int(0, chars.length)).join('');
  }
  return chars.join('');
}

test(`${CASES} seeded hostile read requests: only 200, 304, 401, 422 (or a busy stream), never a 5xx`, { timeout: 240_000 }, async (t) => {
  const seedValue = seedFromEnv();
  t.diagnostic(`seed ${seedValue} (RELIABILITY_SEED=${seedValue} replays it)`);
  const rng = createRandom(seedValue);
  const svc = await freshService(t, { env: { READ_TOKEN: TOKEN } });
  await seed(svc, Array.from({ length: 30 }, (_, i) => message({ message_id: `hr-${i}`, ts: `2025-01-15T10:00:${String(i).padStart(2, '0')}Z`, text: i % 4 === 0 ? null : `Hello ${i}` })));
  const auth = { Authorization: `Bearer ${TOKEN}` };
  const valid = await fetch(`${svc.url}/messages?limit=3`, { headers: auth });
  const cursor = new URL(/^<([^>]+)>/.exec(valid.headers.get('link') ?? '')?.[1] ?? '/', svc.url).searchParams.get('cursor') ?? '';
  const etag = valid.headers.get('etag') ?? '';
  assert.ok(cursor !== '' && etag !== '');

  const pool = createPool(svc.port, 8);
  t.after(() => pool.close());
  const byStatus = new Map<number, number>();
  const wrong: string[] = [];
  for (let i = 0; i < CASES; i += 1) {
    const route = rng.pick(['/messages', '/messages', '/messages/export', '/messages/stream', '/stats']);
    const params: string[] = [];
    for (let n = rng.int(0, 5); n > 0; n -= 1) {
      const name = rng.pick(['limit', 'offset', 'cursor', 'from', 'since', 'until', 'q', 'format', 'last_event_id', 'cursor', rng.pick(PIECES)]);
      const value = name === 'cursor' && rng.chance(0.7) ? (rng.chance(0.2) ? cursor : mutate(rng, cursor)) : rng.pick(PIECES);
      params.push(`${encodeURIComponent(name)}=${rng.chance(0.5) ? encodeURIComponent(value) : value.replace(/[^\x21-\x7e]|#/gu, (c) => encodeURIComponent(c))}`); // raw, but what a request line can carry
    }
    const headers: Record<string, string> = {};
    if (rng.chance(0.75)) headers['Authorization'] = `Bearer ${TOKEN}`;
    else if (rng.chance(0.8)) headers['Authorization'] = rng.pick([`bearer ${TOKEN}`, `Bearer ${mutate(rng, TOKEN)}`, 'Basic Zm9vOmJhcg==', `Bearer ${TOKEN} x`, 'Bearer', `Bearer  ${TOKEN}`]);
    if (rng.chance(0.3)) headers['If-None-Match'] = rng.pick([etag, mutate(rng, etag), '*', 'W/', '"', `${etag}, W/"x"`, 'garbage']);
    if (rng.chance(0.3)) headers['Last-Event-ID'] = rng.pick(['0', '5', '999999999', '-3', 'abc', '1.5', '', '99999999999999999999', mutate(rng, '12')]);
    const path = `${route}${params.length > 0 ? `?${params.join('&')}` : ''}`;
    let status: number;
    if (route === '/messages/stream') status = await headStatus(svc.port, path, headers);
    else {
      const res = await pool.send('GET', path, undefined, headers);
      status = res.status;
    }
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    const allowed = route === '/messages/stream' ? [200, 401, 422, 503] : [200, 304, 401, 422];
    if (!allowed.includes(status)) wrong.push(`${status} ${path.slice(0, 200)} ${JSON.stringify(headers).slice(0, 200)}`);
  }
  assert.deepEqual(wrong, []);
  assert.equal((await fetch(`${svc.url}/health/ready`)).status, 200);
  // Every stream was closed by its client; none is left open.
  for (let i = 0; i < 200 && metricValue(await scrape(svc), 'streams_open') !== 0; i += 1) await new Promise((r) => setTimeout(r, 25));
  assert.equal(metricValue(await scrape(svc), 'streams_open'), 0);
  assert.ok(!svc.rawLog().includes(TOKEN), 'the token is never logged');
  assert.ok(!svc.logs.some((l) => Number(l['status']) >= 500 && l['path'] !== '/messages/stream'));
  reportFigures(t, 'hostile-reads', { seed: seedValue, cases: CASES, statuses: Object.fromEntries([...byStatus].sort(([a], [b]) => a - b)) });
});
