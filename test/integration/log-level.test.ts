// LOG_LEVEL filters the request log by the level each status maps to: info < 400, warn 4xx, error 5xx.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failingStore } from '../helpers/stores.ts';
import { message, startTestService } from '../helpers/service.ts';

async function statusesLogged(level: string): Promise<unknown[]> {
  const svc = await startTestService({ env: { LOG_LEVEL: level }, store: failingStore() });
  try {
    for (const path of ['/health/live', '/nope', '/stats']) await (await svc.get(path)).body?.cancel();
    return svc.accessLogs().map((l) => [l['level'], l['status']]);
  } finally {
    await svc.stop();
  }
}

test('LOG_LEVEL (any case) keeps the lines at or above it', async () => {
  assert.deepEqual(await statusesLogged('debug'), [['info', 200], ['warn', 404], ['error', 503]]);
  assert.deepEqual(await statusesLogged('INFO'), [['info', 200], ['warn', 404], ['error', 503]]);
  assert.deepEqual(await statusesLogged('Warning'), [['warn', 404], ['error', 503]]);
  assert.deepEqual(await statusesLogged('WARN'), [['warn', 404], ['error', 503]]);
  assert.deepEqual(await statusesLogged('ERROR'), [['error', 503]]);
});

test('at ERROR, start-up info lines are dropped but storage errors are kept', async (t) => {
  const svc = await startTestService({ env: { LOG_LEVEL: 'ERROR' }, store: failingStore() });
  t.after(() => svc.stop());
  await (await svc.deliver(message())).body?.cancel();
  assert.deepEqual(svc.logs.map((l) => [l['level'], l['msg'] ?? l['status']]), [['error', 'storage write failed'], ['error', 503]]);
});
