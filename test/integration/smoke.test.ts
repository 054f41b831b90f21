import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyOf, message, startTestService } from '../helpers/service.ts';

test('a signed message is stored once and listed', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const m = message();
  const first = await svc.deliver(m);
  assert.equal(first.status, 200);
  assert.deepEqual(await first.json(), { status: 'ok' });
  const again = await svc.deliver(m);
  assert.equal(again.status, 200);
  await again.body?.cancel();
  const list = await bodyOf(await svc.get('/messages'));
  assert.equal(list.total, 1);
  const lines = svc.accessLogs().filter((l) => l['path'] === '/webhook');
  assert.deepEqual(lines.map((l) => [l['result'], l['dup']]), [['created', false], ['duplicate', true]]);
});
