// The compose file and Makefile are what SPEC.md "Packaging" asks for (no Docker engine runs here,
// so their text is checked).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const read = (name: string): string => readFileSync(join(root, name), 'utf8');

test('docker-compose.yml: service api on 8000:8000, a named volume at /data, env from the environment', () => {
  const compose = read('docker-compose.yml');
  assert.match(compose, /^services:\n {2}api:\n/m);
  assert.match(compose, /^ {6}- "8000:8000"$/m);
  assert.match(compose, /^ {6}DATABASE_URL: sqlite:\/\/\/\/data\/app\.db$/m);
  assert.match(compose, /^ {6}WEBHOOK_SECRET: \$\{WEBHOOK_SECRET/m);
  assert.match(compose, /^ {6}LOG_LEVEL: \$\{LOG_LEVEL/m);
  const volume = /^ {6}- (\w+):\/data$/m.exec(compose)?.[1];
  assert.ok(volume, 'a volume mounted at /data');
  assert.match(compose, new RegExp(`^volumes:\\n {2}${volume}:`, 'm'), 'the volume is a named volume');
});

test('Makefile: up, down, logs and test run what SPEC.md names', () => {
  const makefile = read('Makefile');
  const recipe = (target: string): string | undefined => new RegExp(`^${target}:.*\\n\\t(.+)$`, 'm').exec(makefile)?.[1];
  assert.equal(recipe('up'), 'docker compose up -d --build');
  assert.equal(recipe('down'), 'docker compose down -v');
  assert.equal(recipe('logs'), 'docker compose logs -f api');
  assert.match(recipe('test') ?? '', /npm test$/);
});

test('Dockerfile: multi-stage, Node 24 to build, distroless Node 24 to run as non-root, no curl or shell health check', () => {
  const dockerfile = read('Dockerfile');
  assert.match(dockerfile, /^FROM node:24[^\s]* AS build$/m);
  assert.match(dockerfile, /^FROM gcr\.io\/distroless\/nodejs24-debian12[^\s]*$/m);
  assert.match(dockerfile, /^USER 65532:65532$/m);
  assert.match(dockerfile, /^COPY --from=build \/app\/dist \.\/dist$/m);
  const healthcheck = dockerfile.slice(dockerfile.indexOf('HEALTHCHECK'));
  assert.doesNotMatch(healthcheck.split('\n').slice(0, 2).join('\n'), /curl|wget|\/bin\/sh|CMD-SHELL/);
});
