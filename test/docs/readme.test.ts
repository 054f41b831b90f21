// Keeps the README honest: every route, environment variable, metric, webhook result and error
// body the code has must be documented there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { routeTable, type AppDeps } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { ERRORS } from '../../src/http/errors.ts';
import { createServiceMetrics, WEBHOOK_RESULTS } from '../../src/metrics/service-metrics.ts';

const root = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

test('every route is documented with its method', () => {
  // The handlers are closures over deps; building the table does not call them.
  const table = routeTable({} as AppDeps);
  const documented = Object.entries(table).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`));
  assert.ok(documented.length >= 6);
  for (const route of documented) assert.ok(readme.includes(route), `README does not mention ${route}`);
});

test('every environment variable the config reads is in the README table', () => {
  const read = new Set<string>();
  const env = new Proxy({}, { get: (_t, key) => (typeof key === 'string' && read.add(key), undefined) });
  loadConfig(env);
  assert.deepEqual([...read].sort(), ['DATABASE_URL', 'HOST', 'LOG_LEVEL', 'MAX_BODY_BYTES', 'PORT', 'WEBHOOK_SECRET']);
  for (const name of read) assert.match(readme, new RegExp(`^\\| \`${name}\` \\|`, 'm'), `${name} missing from the table`);
});

test('every metric family and webhook result is documented', () => {
  const families = [...createServiceMetrics().render().matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]);
  const names = families.map(([name]) => name);
  for (const required of ['http_requests_total', 'webhook_requests_total', 'request_latency_ms', 'messages_stored', 'process_start_time_seconds', 'process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds']) {
    assert.ok(names.includes(required), `${required} is exported`);
  }
  assert.equal(families.length, 14);
  for (const [name, type] of families) assert.ok(readme.includes(`| \`${name}\` | ${type} |`), `${name} (${type}) missing`);
  for (const result of WEBHOOK_RESULTS) assert.ok(readme.includes(`\`${result}\``), `result ${result} missing`);
});

test('every error body is documented with its status', () => {
  for (const { status, detail } of Object.values(ERRORS)) {
    const row = new RegExp(`^\\| ${status} \\| \`\\{"detail":"${detail}"\\}\``, 'm');
    assert.match(readme, row, `${status} {"detail":"${detail}"} missing`);
  }
});

test('the two commands of the quick start are the ones CI and npm run', () => {
  assert.ok(readme.includes('npm ci && npm test'));
  assert.ok(readme.includes('npm ci && WEBHOOK_SECRET=change-me npm start'));
  const ci = readFileSync(join(root, '.ci', 'run'), 'utf8');
  assert.match(ci, /^npm ci\b/m);
  assert.match(ci, /^npm test$/m);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string>; dependencies?: unknown };
  assert.equal(pkg.dependencies, undefined, 'no runtime dependencies');
  assert.ok(pkg.scripts['start'] && pkg.scripts['test'] && pkg.scripts['build'] && pkg.scripts['typecheck'] && pkg.scripts['dev']);
});

test('Deployment and Observability sections: every alert rule, the deployment files and the Makefile targets are documented', () => {
  for (const section of ['## Deployment', '### Docker', '### Docker Compose', '### Kubernetes', '### Prometheus', '## Observability', '### Metrics', '### Alerts', '### Example PromQL']) {
    assert.match(readme, new RegExp(`^${section}$`, 'm'), `section ${section}`);
  }
  const rules = readFileSync(join(root, 'deploy', 'prometheus', 'webhook-api.rules.yml'), 'utf8');
  const alerts = [...rules.matchAll(/^\s+- alert: (\S+)$/gm)].map((m) => m[1] ?? '');
  assert.ok(alerts.length >= 4);
  for (const alert of alerts) assert.match(readme, new RegExp(`^\\| \`${alert}\` \\| (critical|warning) \\|`, 'm'), `alert ${alert} missing`);
  for (const file of ['k8s/deployment.yaml', 'k8s/service.yaml', 'k8s/pvc.yaml', 'k8s/examples/secret.yaml', 'deploy/prometheus/prometheus.yml', 'deploy/prometheus/webhook-api.rules.yml']) {
    const name = file.split('/').pop() ?? file;
    assert.ok(readme.includes(name), `${file} missing`);
  }
  const makefile = readFileSync(join(root, 'Makefile'), 'utf8');
  for (const target of [...makefile.matchAll(/^([a-z]+):.*## /gm)].map((m) => m[1] ?? '')) {
    assert.ok(readme.includes(`make ${target}`), `make ${target} missing`);
  }
});
