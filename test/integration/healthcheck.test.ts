// The image's health check script (src/healthcheck.cts, compiled to dist/healthcheck.cjs in the
// image) against a real service: exit 0 while ready, 1 when not ready or not answering; it reads
// only PORT and HOST; and its requests are not counted in the service's request metrics, while
// every other client's (a Kubernetes probe's included) are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { metricValue, scrape } from '../helpers/metrics.ts';
import { freshService } from '../helpers/service.ts';

const SCRIPT = join(import.meta.dirname, '..', '..', 'src', 'healthcheck.cts');

function runCheck(env: Record<string, string>): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

test('the health check exits 0 while ready and 1 when not ready; it reads no secret file', async (t) => {
  const svc = await freshService(t);
  // A NAME_FILE that cannot be read would stop the service (exit 2); the check does not even look.
  assert.equal(await runCheck({ PORT: String(svc.port), HOST: '127.0.0.1', WEBHOOK_SECRET_FILE: '/nonexistent/secret' }), 0);
  const notReady = await freshService(t, { env: { WEBHOOK_SECRET: '' } });
  assert.equal(await runCheck({ PORT: String(notReady.port), HOST: '0.0.0.0' }), 1);
  const port = svc.port;
  await svc.stop();
  assert.equal(await runCheck({ PORT: String(port) }), 1, 'nothing answers');
});

test('the health check is logged but not counted in http_requests_total or request_latency_ms; a kube-probe is', async (t) => {
  const svc = await freshService(t);
  const series = 'http_requests_total{path="/health/ready",status="200"}';
  for (let i = 0; i < 3; i += 1) assert.equal(await runCheck({ PORT: String(svc.port), HOST: '127.0.0.1' }), 0);
  let text = await scrape(svc);
  assert.equal(metricValue(text, series), undefined, 'three health checks, no series');
  assert.equal(metricValue(text, 'request_latency_ms_count'), 0);
  assert.equal(svc.accessLogs().filter((l) => l['path'] === '/health/ready' && l['status'] === 200).length, 3, 'each check has its access-log line');

  const probe = await svc.get('/health/ready', { headers: { 'User-Agent': 'kube-probe/1.31' } });
  assert.equal(probe.status, 200);
  await probe.body?.cancel();
  const impostor = await svc.get('/stats', { headers: { 'User-Agent': 'webhook-api-healthcheck' } });
  assert.equal(impostor.status, 200);
  await impostor.body?.cancel();
  text = await scrape(svc);
  assert.equal(metricValue(text, series), 1, 'the Kubernetes probe counts');
  assert.equal(metricValue(text, 'http_requests_total{path="/stats",status="200"}'), 1, 'the header hides health reads only');
});
