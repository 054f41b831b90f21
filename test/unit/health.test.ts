import { test } from 'node:test';
import assert from 'node:assert/strict';
import { live, ready } from '../../src/health/handlers.ts';

const store = (answers: boolean, writable = true) => ({ ping: async () => answers, writable: async () => writable });

test('live is 200 {"status":"ok"}', () => {
  assert.deepEqual(live(), { kind: 'json', status: 200, body: { status: 'ok' } });
});

test('ready is 200 only with a secret, a database that answers, and no shutdown under way', async () => {
  assert.deepEqual(await ready({ secretConfigured: true, store: store(true), lifecycle: { shuttingDown: false } }), {
    kind: 'json',
    status: 200,
    body: { status: 'ready' },
  });
});

test('each failed check is named in the reasons of a 503', async () => {
  const cases: [boolean, boolean, boolean, string[]][] = [
    [true, true, true, ['shutting down']],
    [false, true, false, ['webhook secret not configured']],
    [true, false, false, ['database not answering']],
    [false, false, true, ['shutting down', 'webhook secret not configured', 'database not answering']],
  ];
  for (const [secretConfigured, answers, shuttingDown, reasons] of cases) {
    assert.deepEqual(await ready({ secretConfigured, store: store(answers), lifecycle: { shuttingDown } }), {
      kind: 'json',
      status: 503,
      body: { status: 'not ready', reasons },
    });
  }
});

test('a database that answers reads but cannot take writes is not ready', async () => {
  assert.deepEqual(await ready({ secretConfigured: true, store: store(true, false), lifecycle: { shuttingDown: false } }), {
    kind: 'json',
    status: 503,
    body: { status: 'not ready', reasons: ['database not writable'] },
  });
});
