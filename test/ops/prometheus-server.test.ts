// A real Prometheus (Debian's package) on loopback scrapes the running service once a second with
// the repository's alert rules loaded; its HTTP API then has to agree with what the test sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freshService, message } from '../helpers/service.ts';
import { freePort, haveTool } from '../helpers/tools.ts';

const RULES = join(import.meta.dirname, '..', '..', 'deploy', 'prometheus', 'webhook-api.rules.yml');
const WAIT_MS = 30_000;
const POLL_MS = 250;
const JOB = 'webhook-api';

type Sample = { metric: Record<string, string>; value: [number, string] };

/** Asks until `accept` is true for the answer of an instant query, or fails after WAIT_MS with the last answer. */
async function waitForQuery(base: string, query: string, accept: (result: Sample[]) => boolean, describe: () => string): Promise<Sample[]> {
  const deadline = Date.now() + WAIT_MS;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`);
      const body = (await res.json()) as { status: string; data?: { resultType: string; result: Sample[] } };
      last = JSON.stringify(body);
      if (body.status === 'success' && body.data !== undefined && accept(body.data.result)) return body.data.result;
    } catch (err) {
      last = String(err); // not listening yet
    }
    await delay(POLL_MS);
  }
  assert.fail(`${query}: not as expected within ${WAIT_MS} ms; last answer ${last}\n${describe()}`);
}

const single = (expected: string) => (result: Sample[]): boolean => result.length === 1 && result[0]?.value[1] === expected;

test('a real Prometheus scrapes the service: target up, created deliveries and stored messages counted, rules loaded', { timeout: 90_000 }, async (t) => {
  if (!haveTool(t, 'prometheus')) return;
  const svc = await freshService(t);
  const work = mkdtempSync(join(tmpdir(), 'prometheus-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const config = join(work, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      `  - ${JSON.stringify(RULES)}`,
      'scrape_configs:',
      `  - job_name: ${JOB}`,
      '    static_configs:',
      `      - targets: ["127.0.0.1:${svc.port}"]`,
      '',
    ].join('\n'),
  );

  const port = await freePort();
  const prometheus = spawn(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${join(work, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  prometheus.stderr.setEncoding('utf8');
  prometheus.stderr.on('data', (chunk: string) => (log += chunk));
  const exited = new Promise<void>((resolve) => prometheus.once('exit', () => resolve()));
  // Always stopped, whatever fails below; SIGKILL if it does not stop on SIGTERM within 5 s.
  t.after(async () => {
    if (prometheus.exitCode !== null || prometheus.signalCode !== null) return;
    prometheus.kill('SIGTERM');
    const force = setTimeout(() => prometheus.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(force);
  });
  const describe = (): string => `prometheus exit ${String(prometheus.exitCode)}; its log:\n${log}`;
  const base = `http://127.0.0.1:${port}`;

  const sent = 5;
  for (let i = 0; i < sent; i += 1) {
    const res = await svc.deliver(message());
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }
  const duplicate = message();
  for (const res of [await svc.deliver(duplicate), await svc.deliver(duplicate), await svc.post('{}', { 'X-Signature': '00' })]) await res.body?.cancel();

  await waitForQuery(base, `up{job="${JOB}"}`, single('1'), describe);
  await waitForQuery(base, `webhook_requests_total{job="${JOB}",result="created"}`, single(String(sent + 1)), describe);
  await waitForQuery(base, `webhook_requests_total{job="${JOB}",result="duplicate"}`, single('1'), describe);
  await waitForQuery(base, `webhook_requests_total{job="${JOB}",result="invalid_signature"}`, single('1'), describe);
  await waitForQuery(base, `messages_stored{job="${JOB}"}`, single(String(sent + 1)), describe);
  await waitForQuery(base, `process_resident_memory_bytes{job="${JOB}"} > 0`, (r) => r.length === 1, describe);
  // The histogram is usable as the latency alert uses it.
  await waitForQuery(base, `histogram_quantile(0.95, sum by (le) (request_latency_ms_bucket{job="${JOB}"}))`, (r) => r.length === 1 && Number(r[0]?.value[1]) >= 0, describe);

  const rules = (await (await fetch(`${base}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string }[] }[] } };
  const loaded = rules.data.groups.flatMap((g) => g.rules);
  assert.equal(loaded.length, 9, JSON.stringify(rules));
  for (const rule of loaded) assert.notEqual(rule.health, 'err', `${rule.name} evaluates`);
  const firing = (await (await fetch(`${base}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string> }[] } };
  assert.deepEqual(firing.data.alerts.filter((a) => a.labels['alertname'] === 'WebhookApiDown'), [], 'the target is not reported down');
});
