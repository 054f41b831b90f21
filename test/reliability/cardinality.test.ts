// 1,000 random unknown paths (and random query strings on known ones) leave the number of
// http_requests_total series unchanged: labels come from the route table, never from the URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportFigures } from '../helpers/figures.ts';
import { scrape } from '../helpers/metrics.ts';
import { createPool } from '../helpers/http-client.ts';
import { createRandom, seedFromEnv } from '../helpers/seeded.ts';
import { startTestService } from '../helpers/service.ts';

const series = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('http_requests_total{'));

test('1,000 random unknown paths do not add http_requests_total series', async (t) => {
  const seed = seedFromEnv();
  t.diagnostic(`seed ${seed}`);
  const rng = createRandom(seed);
  const svc = await startTestService();
  t.after(() => svc.stop());
  const pool = createPool(svc.port, 16);
  t.after(() => pool.close());

  // One request of each kind first, so every series the run can touch already exists.
  for (const [method, path] of [['GET', '/nope'], ['POST', '/nope'], ['GET', '/metrics?x=1'], ['GET', '/messages']] as const) {
    assert.ok((await pool.send(method, path)).status > 0);
  }
  const before = series(await scrape(svc));

  const alphabet = 'abcXYZ019-._~%2F%00%E2%82%AC/';
  const paths = Array.from({ length: 1_000 }, (_, i) => {
    if (i % 10 === 0) return `/metrics?${Array.from({ length: rng.int(1, 40) }, () => rng.pick([...alphabet])).join('')}`;
    const length = rng.int(1, 120);
    return `/${Array.from({ length }, () => rng.pick([...alphabet])).join('')}`;
  });
  let next = 0;
  const statuses = new Map<number, number>();
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < paths.length) {
      const path = paths[next] as string;
      next += 1;
      const res = await pool.send(path.startsWith('/metrics?') ? rng.pick(['GET', 'HEAD']) : rng.pick(['GET', 'POST', 'DELETE', 'HEAD']), path);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  }));
  const after = series(await scrape(svc));
  assert.deepEqual(after.map((l) => l.replace(/ [0-9.e+]+$/, '')), before.map((l) => l.replace(/ [0-9.e+]+$/, '')));
  assert.ok(![...statuses.keys()].some((s) => s >= 500 || s === 0), JSON.stringify([...statuses]));
  reportFigures(t, 'cardinality', { seed, random_paths: paths.length, series_before: before.length, series_after: after.length });
});
