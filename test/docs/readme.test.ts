// Keeps the README honest: every route, environment variable, metric, webhook result and error
// body the code has must be documented there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { routeTable, type AppDeps } from '../../src/app.ts';
import { DEFAULT_PG_POOL_SIZE, FILE_VARIABLES, loadConfig } from '../../src/config.ts';
import { ERRORS } from '../../src/http/errors.ts';
import { createServiceMetrics, WEBHOOK_RESULTS, WHATSAPP_MESSAGE_RESULTS, WHATSAPP_STATUSES } from '../../src/metrics/service-metrics.ts';
import { KEY_NAMES } from '../../src/webhook/schemes/keys.ts';
import { SCHEME_NAMES } from '../../src/webhook/schemes/types.ts';

const root = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

test('every route is documented with its method', () => {
  // The handlers are closures over deps; building the table does not call them.
  const table = routeTable({} as AppDeps);
  const documented = Object.entries(table).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`));
  assert.ok(documented.length >= 6);
  for (const route of documented) assert.ok(readme.includes(route), `README does not mention ${route}`);
});

test('every GET route has a curl example; the live tail one with curl -N and a Last-Event-ID resume', () => {
  const table = routeTable({} as AppDeps);
  for (const [path, methods] of Object.entries(table)) {
    if (methods['GET'] === undefined) continue;
    assert.match(readme, new RegExp(`curl [^\\n]*localhost:8000${path.replace(/[/]/g, '\\/')}[?' ]`), `no curl example for GET ${path}`);
  }
  assert.match(readme, /curl -N [^\n]*\/messages\/stream/);
  assert.match(readme, /curl -N [^\n]*Last-Event-ID: /);
  assert.match(readme, /curl [^\n]*Authorization: Bearer /);
});

test('every environment variable the config reads is in the README table', () => {
  const read = new Set<string>();
  const env = new Proxy({}, { get: (_t, key) => (typeof key === 'string' && read.add(key), undefined) });
  loadConfig(env);
  assert.deepEqual([...read].sort(), [
    'DATABASE_URL', 'DATABASE_URL_FILE', 'HOST', 'LOG_LEVEL', 'MAX_BODY_BYTES', 'MAX_STREAMS', 'PGSSLROOTCERT', 'PG_POOL_SIZE', 'PORT', 'READ_TOKEN', 'READ_TOKEN_FILE', 'SHUTDOWN_GRACE_SECONDS',
    'WEBHOOK_SECRET', 'WEBHOOK_SECRET_FILE', 'WEBHOOK_SECRET_PREVIOUS', 'WEBHOOK_SECRET_PREVIOUS_FILE', 'WEBHOOK_TOLERANCE_SECONDS',
    'WHATSAPP_APP_SECRET', 'WHATSAPP_APP_SECRET_FILE', 'WHATSAPP_MAX_BODY_BYTES', 'WHATSAPP_VERIFY_TOKEN', 'WHATSAPP_VERIFY_TOKEN_FILE',
  ]);
  const fileForms = new Set(FILE_VARIABLES.map((name) => `${name}_FILE`));
  for (const name of read) {
    if (fileForms.has(name)) continue;
    assert.match(readme, new RegExp(`^\\| \`${name}\` \\|`, 'm'), `${name} missing from the table`);
  }
  // The NAME_FILE forms share one row, which names each of them.
  const fileRow = /^\| `\w+_FILE`.*$/m.exec(readme)?.[0] ?? '';
  for (const name of fileForms) assert.ok(fileRow.includes(`\`${name}\``), `${name} missing from the NAME_FILE row`);
});

test('every metric family and webhook result is documented', () => {
  const families = [...createServiceMetrics().render().matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]);
  const names = families.map(([name]) => name);
  for (const required of ['http_requests_total', 'webhook_requests_total', 'request_latency_ms', 'messages_stored', 'streams_open', 'process_start_time_seconds', 'process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds']) {
    assert.ok(names.includes(required), `${required} is exported`);
  }
  assert.equal(families.length, 18);
  for (const [name, type] of families) assert.ok(readme.includes(`| \`${name}\` | ${type} |`), `${name} (${type}) missing`);
  for (const result of WEBHOOK_RESULTS) assert.ok(readme.includes(`\`${result}\``), `result ${result} missing`);
  for (const label of [...SCHEME_NAMES, ...KEY_NAMES, ...WHATSAPP_MESSAGE_RESULTS, ...WHATSAPP_STATUSES]) assert.ok(readme.includes(`\`${label}\``), `label value ${label} missing`);
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
  for (const alert of alerts) assert.match(readme, new RegExp(`^\\| \`${alert}\` \\| (critical|warning|info) \\|`, 'm'), `alert ${alert} missing`);
  for (const file of ['k8s/deployment.yaml', 'k8s/service.yaml', 'k8s/pvc.yaml', 'k8s/examples/secret.yaml', 'deploy/prometheus/prometheus.yml', 'deploy/prometheus/webhook-api.rules.yml']) {
    const name = file.split('/').pop() ?? file;
    assert.ok(readme.includes(name), `${file} missing`);
  }
  const makefile = readFileSync(join(root, 'Makefile'), 'utf8');
  for (const target of [...makefile.matchAll(/^([a-z]+):.*## /gm)].map((m) => m[1] ?? '')) {
    assert.ok(readme.includes(`make ${target}`), `make ${target} missing`);
  }
});

test('the Senders section: every scheme, Meta\'s dashboard fields, rotation, the replay window, the answers, and both test vectors', () => {
  for (const section of ['## Senders', '### Standard Webhooks and Svix senders', '### GitHub-style senders', '### Meta WhatsApp Cloud API', '### Rotating a key', '### Replay window and clock skew', '### What the service answers', '### Signing and sending from the command line']) {
    assert.match(readme, new RegExp(`^${section}$`, 'm'), `section ${section}`);
  }
  for (const scheme of ['standard', 'x-signature', 'hub', 'whatsapp']) assert.ok(readme.includes(`node scripts/sign.ts --scheme ${scheme}`), `sign.ts --scheme ${scheme}`);
  for (const field of ['App secret', 'Callback URL', 'Verify token', 'Verify and save', 'Webhook fields']) assert.ok(readme.includes(`**${field}**`), `Meta dashboard field ${field}`);
  // The Standard Webhooks and GitHub test vectors, exactly as published.
  for (const text of ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', `'{"test": 2432232314}'`, 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=', "It's a Secret to Everybody", `'Hello, World!'`, 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17']) {
    assert.ok(readme.includes(text), `test vector part ${text}`);
  }
  assert.ok(readme.includes('webhook_signatures_verified_total{job="webhook-api",key="previous_1"}'), 'the rotation query');
});

test('Running on PostgreSQL: when to choose it, the connection string, every sslmode, the pool, the manifests, compose and the migration script', () => {
  const start = readme.indexOf('\n## Running on PostgreSQL\n');
  assert.ok(start !== -1, 'the section exists');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 10));
  for (const text of ['**When to choose it.**', '**Connection string.**', '**TLS.**', '**Pool size.**', '**Moving from SQLite.**', 'postgres://', 'postgresql://', 'PG_POOL_SIZE', 'PGSSLROOTCERT', 'DATABASE_URL_FILE']) {
    assert.ok(section.includes(text), `mentions ${text}`);
  }
  for (const mode of ['disable', 'prefer', 'require', 'verify-full']) assert.match(section, new RegExp(`^\\| \`${mode}\``, 'm'), `sslmode ${mode} in the table`);
  for (const file of ['k8s/postgres/deployment.yaml', 'k8s/postgres/pdb.yaml', 'k8s/postgres/examples/secret.yaml', 'docker-compose.postgres.yml', 'scripts/sqlite-to-postgres.ts']) {
    assert.ok(section.includes(file), `names ${file}`);
    assert.ok(existsSync(join(root, file)), `${file} exists`);
  }
  assert.ok(section.includes(`(default ${DEFAULT_PG_POOL_SIZE})`), 'the pool size default as in the config');
});
