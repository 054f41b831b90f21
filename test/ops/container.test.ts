// The real image on a real Docker engine (.ci/run starts one and builds the image; see
// test/helpers/docker.ts): who owns and runs what, the build context, the service under the
// locked-down `docker run` of the README, its health check, data on the volume, `docker stop`, and
// the hint for a /data the service cannot write. The cases run side by side: most of the time is
// the first health check (30 s after start) and the drain of `docker stop` (8 s).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sign } from '../../src/webhook/signature.ts';
import { docker, dockerOk, freePort, imageUnderTest, removeBuiltImage, waitForHealth, waitForLog } from '../helpers/docker.ts';
import { message } from '../helpers/service.ts';
import { inCi } from '../helpers/tools.ts';

type TestContext = { after(fn: () => unknown): void; diagnostic(message: string): void; skip(message?: string): void };

const ROOT = join(import.meta.dirname, '..', '..');
const SECRET = 'Container-S3cret-90c1e7';
const PREFIX = `webhook-api-test-${process.pid}`;
let names = 0;

/** Removes a volume and, first, every container still using it. */
async function removeVolume(volume: string): Promise<void> {
  const users = (await docker(['ps', '-aq', '--filter', `volume=${volume}`])).stdout.split('\n').filter((id) => id !== '');
  if (users.length > 0) await docker(['rm', '-f', '-v', ...users]);
  await docker(['volume', 'rm', '-f', volume]);
}

/** A container or volume name of this run, removed (with its anonymous volumes) when the test ends. */
function name(t: TestContext, kind: 'container' | 'volume'): string {
  names += 1;
  const id = `${PREFIX}-${names}`;
  t.after(() => (kind === 'container' ? docker(['rm', '-f', '-v', id]) : removeVolume(id)));
  return id;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'container-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What a process of the image sees, as its default user: identities, /app's entries, write attempts, shells. */
const LAYOUT_SCRIPT = `
const fs = require('node:fs');
const path = require('node:path');
const entries = [];
const walk = (p) => {
  const s = fs.lstatSync(p);
  entries.push({ path: p, uid: s.uid, gid: s.gid, mode: s.mode & 0o7777 });
  if (s.isDirectory()) for (const n of fs.readdirSync(p)) walk(path.join(p, n));
};
walk('/app');
const attempt = (f) => { try { f(); return 'done'; } catch (e) { return e.code; } };
const data = fs.statSync('/data');
console.log(JSON.stringify({
  uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(), entries,
  writes: [
    attempt(() => fs.appendFileSync('/app/package.json', ' ')),
    attempt(() => fs.writeFileSync('/app/dist/planted.js', 'x')),
    attempt(() => fs.writeFileSync('/app/planted.js', 'x')),
    attempt(() => fs.mkdirSync('/app/dist/new')),
    attempt(() => fs.renameSync('/app/dist/main.js', '/app/dist/moved.js')),
    attempt(() => fs.chmodSync('/app/dist/main.js', 0o777)),
  ],
  shells: ['/bin/sh', '/bin/bash', '/bin/dash', '/usr/bin/sh', '/bin/busybox', '/usr/bin/env'].filter((p) => fs.existsSync(p)),
  data: [data.uid, data.gid],
}));`;

type Layout = { uid: number; gid: number; groups: number[]; entries: { path: string; uid: number; gid: number; mode: number }[]; writes: string[]; shells: string[]; data: number[] };

async function assertLayout(image: string): Promise<void> {
  // A plain `docker run`: no --read-only, which would hide a writable /app.
  const layout = JSON.parse(await dockerOk(['run', '--rm', '--network', 'none', image, '-e', LAYOUT_SCRIPT])) as Layout;
  assert.deepEqual([layout.uid, layout.gid], [65532, 65532], 'runs as uid/gid 65532');
  assert.ok(!layout.groups.includes(0), 'and not in group root');
  assert.ok(layout.entries.length > 10);
  for (const e of layout.entries) {
    assert.match(e.path, /^\/app(\/package\.json|\/dist(\/.+\.(js|cjs|json)|\/[a-z-]+|\/inbox\/(inbox\.html|inbox\.css|icon\.svg))*)?$/, `${e.path} belongs in the image`);
    assert.deepEqual([e.uid, e.gid], [0, 0], `${e.path} is owned by root`);
    assert.equal(e.mode & 0o022, 0, `${e.path} (${e.mode.toString(8)}) is writable by its owner only`);
  }
  assert.deepEqual(layout.writes, ['EACCES', 'EACCES', 'EACCES', 'EACCES', 'EACCES', 'EPERM'], 'the service user cannot change its own code');
  assert.deepEqual(layout.shells, [], 'no shell');
  assert.deepEqual(layout.data, [65532, 65532], '/data belongs to the service user');
}

/** Starts the service detached and resolves once it listens; `args` go before the image. */
async function startService(t: TestContext, image: string, args: string[]): Promise<{ container: string; base: string; startedAt: number }> {
  const container = name(t, 'container');
  const port = await freePort();
  const startedAt = Date.now() / 1000;
  await dockerOk(['run', '-d', '--name', container, '--network', 'host', '-e', `PORT=${port}`, ...args, image]);
  await waitForLog(container, (l) => l.includes('"msg":"listening"'));
  return { container, base: `http://127.0.0.1:${port}`, startedAt };
}

async function deliver(base: string, body: string, secret = SECRET): Promise<number> {
  const res = await fetch(`${base}/webhook`, { method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-Signature': sign(secret, body) } });
  await res.body?.cancel();
  return res.status;
}

const metric = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('the image on a real Docker engine', { concurrency: true, timeout: 300_000 }, () => {
  after(() => removeBuiltImage());

  it('runs as uid 65532, cannot write its own code, has no shell, and carries its labels', async (t) => {
    const found = await imageUnderTest(t);
    if (found === undefined) return;
    await assertLayout(found.image);
    // The defect of a service user owning /app showed only under BuildKit: under CI its build must be there.
    if (found.buildkitImage === undefined) {
      if (inCi() && !found.builtHere) assert.fail('no BuildKit-built image (WEBHOOK_API_IMAGE_BUILDKIT): .ci/docker.sh could not build one (its log says why)');
      t.diagnostic('no BuildKit-built image given (WEBHOOK_API_IMAGE_BUILDKIT): checked the classic builder\'s only');
    } else await assertLayout(found.buildkitImage);

    const shell = await docker(['run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', found.image, '-c', 'true']);
    assert.notEqual(shell.code, 0, 'the entrypoint /bin/sh does not exist');

    const config = JSON.parse(await dockerOk(['image', 'inspect', '--format', '{{json .Config}}', found.image])) as {
      User: string; ExposedPorts: Record<string, unknown>; Healthcheck: { Test: string[]; Interval: number }; Labels: Record<string, string>; Env: string[];
    };
    assert.equal(config.User, '65532:65532');
    assert.deepEqual(Object.keys(config.ExposedPorts), ['8000/tcp']);
    assert.deepEqual(config.Healthcheck.Test, ['CMD', '/nodejs/bin/node', '/app/dist/healthcheck.cjs']);
    assert.equal(config.Healthcheck.Interval, 30e9);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(config.Labels['org.opencontainers.image.version'], pkg.version);
    const revision = config.Labels['org.opencontainers.image.revision'] ?? '';
    if (found.revision === undefined) assert.match(revision, /^[0-9a-f]{40}$/, 'a commit (WEBHOOK_API_IMAGE_REVISION names which)');
    else assert.equal(revision, found.revision, 'the commit it was built from');
    for (const key of ['title', 'description', 'source', 'licenses']) assert.ok(`org.opencontainers.image.${key}` in config.Labels, `label ${key}`);
  });

  it('.dockerignore, as the engine applies it: only the allowed files, nothing planted inside the allowed folders', async (t) => {
    if ((await imageUnderTest(t)) === undefined) return;
    const dir = tempDir(t);
    const context = join(dir, 'context');
    const allowed = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src/main.ts', 'src/storage/sqlite/database.ts', 'scripts/seed.ts'];
    const planted = ['.env', 'README.md', 'data/app.db', 'src/.env', 'src/.env.local', 'src/app.db', 'src/app.db-wal', 'scripts/data/app.db', 'scripts/x.sqlite', 'src/node_modules/x/index.js', 'src/tls/server.key', 'src/dist/main.js'];
    for (const file of [...allowed, ...planted]) {
      mkdirSync(dirname(join(context, file)), { recursive: true });
      writeFileSync(join(context, file), 'x');
    }
    copyFileSync(join(ROOT, '.dockerignore'), join(context, '.dockerignore'));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM gcr.io/distroless/nodejs24-debian12:latest\nCOPY . /ctx\n');
    const probe = `${PREFIX}-context:${names += 1}`;
    t.after(() => docker(['image', 'rm', '-f', probe]));
    await dockerOk(['build', '-q', '-f', join(dir, 'Dockerfile'), '-t', probe, context], { env: { DOCKER_BUILDKIT: '0' } });
    const listing = await dockerOk(['run', '--rm', '--network', 'none', probe, '-e', "console.log(require('node:fs').readdirSync('/ctx', { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => require('node:path').relative('/ctx', require('node:path').join(e.parentPath, e.name))).sort().join('\\n'))"]);
    assert.deepEqual(listing.split('\n'), [...allowed].sort());
  });

  it('serves under --read-only with a tmpfs /tmp, no capabilities and a secret file; turns healthy without counting its checks; the data outlives docker rm -f', async (t) => {
    const found = await imageUnderTest(t);
    if (found === undefined) return;
    const volume = name(t, 'volume');
    await dockerOk(['volume', 'create', volume]);
    const secretFile = join(tempDir(t), 'webhook_secret');
    writeFileSync(secretFile, `${SECRET}\n`);
    chmodSync(secretFile, 0o644);
    const lockedDown = ['--read-only', '--tmpfs', '/tmp', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '-v', `${volume}:/data`];
    const secretArgs = ['-e', 'WEBHOOK_SECRET_FILE=/run/secrets/webhook_secret', '-v', `${secretFile}:/run/secrets/webhook_secret:ro`];
    const first = await startService(t, found.image, [...lockedDown, ...secretArgs]);

    const kept = message({ message_id: 'kept-across-rm-f', text: 'survives' });
    assert.equal(await deliver(first.base, JSON.stringify(kept)), 200);
    assert.equal(await deliver(first.base, JSON.stringify(message()), 'wrong-secret'), 401);
    const listed = (await (await fetch(`${first.base}/messages`)).json()) as { data: { message_id: string }[]; total: number };
    assert.deepEqual([listed.total, listed.data.map((m) => m.message_id)], [1, ['kept-across-rm-f']]);
    // The inbox page and its assets come from the image's own files, with their headers, under --read-only.
    const inbox = await fetch(`${first.base}/inbox`);
    assert.equal(inbox.status, 200);
    assert.equal(inbox.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(inbox.headers.get('content-security-policy'), "default-src 'self'");
    const links = [...(await inbox.text()).matchAll(/(?:href|src)="(inbox\/[^"]+)"/g)].map((m) => m[1] ?? '');
    assert.equal(links.length, 3, 'icon, style sheet and script');
    for (const link of links) {
      const asset = await fetch(`${first.base}/${link}`);
      assert.equal(asset.status, 200, link);
      assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable', link);
      assert.equal(asset.headers.get('x-content-type-options'), 'nosniff');
      assert.ok((await asset.text()).length > 100, `${link} has its content`);
    }
    let metrics = await (await fetch(`${first.base}/metrics`)).text();
    assert.equal(metric(metrics, 'webhook_requests_total{result="created"}'), 1);
    assert.equal(metric(metrics, 'messages_stored'), 1);
    const env = await dockerOk(['inspect', '--format', '{{json .Config.Env}}', first.container]);
    assert.ok(env.includes('WEBHOOK_SECRET_FILE=') && !env.includes(SECRET), 'docker inspect shows the path, not the secret');

    const healthyWithin = 30 + 5 + 25; // first check after the 30 s interval, a 5 s timeout, margin for a loaded machine
    await waitForHealth(first.container, 'healthy', first.startedAt, healthyWithin * 1000);
    t.diagnostic(`healthy ${(Date.now() / 1000 - first.startedAt).toFixed(1)} s after docker run`);
    metrics = await (await fetch(`${first.base}/metrics`)).text();
    assert.doesNotMatch(metrics, /^http_requests_total\{path="\/health\/ready"/m, 'the health check is not counted');

    await dockerOk(['rm', '-f', first.container]);
    const second = await startService(t, found.image, [...lockedDown, '-e', `WEBHOOK_SECRET=${SECRET}`]);
    const again = (await (await fetch(`${second.base}/messages`)).json()) as { data: { message_id: string; text: string }[] };
    assert.deepEqual(again.data.map((m) => [m.message_id, m.text]), [['kept-across-rm-f', 'survives']]);
  });

  it('docker stop (default timeout) with a request in flight: the drain runs its 8 s grace period, exit 0, the stopped line', async (t) => {
    const found = await imageUnderTest(t);
    if (found === undefined) return;
    const { container, base } = await startService(t, found.image, ['-e', `WEBHOOK_SECRET=${SECRET}`]);
    const { port } = new URL(base);
    // A request whose headers never complete: in progress until node:http's 10 s header timeout,
    // so only the grace period ends the drain before it. (A stalled POST /webhook body is cut by the
    // body gate after 5 s, and an answered request whose body never completes by the 5 s keep-alive
    // timeout: either would end the drain before the grace period whatever its length.)
    const socket = connect(Number(port), '127.0.0.1');
    t.after(() => socket.destroy());
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n');
    await new Promise((resolve) => setTimeout(resolve, 200));

    const started = performance.now();
    await dockerOk(['stop', container]);
    const tookMs = performance.now() - started;
    t.diagnostic(`docker stop took ${Math.round(tookMs)} ms`);
    assert.equal(await dockerOk(['inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', container]), '0 false', 'exit 0, not SIGKILL (137)');
    const logs = await dockerOk(['logs', container]);
    const msgs = logs.split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { msg?: string }).msg).filter((m) => m !== undefined);
    // SHUTDOWN_GRACE_SECONDS (8) ends the drain inside Docker's 10 s: with the earlier 10 s drain
    // Docker's SIGKILL came first (exit 137, no stopped line).
    assert.deepEqual(msgs.slice(msgs.indexOf('shutting down')), ['shutting down', 'grace period over, closing open connections', 'stopped']);
    assert.ok(tookMs > 7_000 && tookMs < 10_000, `the stop took ${Math.round(tookMs)} ms: the 8 s grace period, inside Docker's 10 s`);
  });

  it('a /data bind mount owned by root: exit 1 with a hint naming the folder and uid 65532', async (t) => {
    const found = await imageUnderTest(t);
    if (found === undefined) return;
    const data = tempDir(t);
    chmodSync(data, 0o755);
    const run = await docker(['run', '--rm', '--network', 'none', '-e', `WEBHOOK_SECRET=${SECRET}`, '-v', `${data}:/data`, found.image]);
    assert.equal(run.code, 1, `${run.stdout}${run.stderr}`);
    const line = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { msg?: string; hint?: string };
    assert.equal(line.msg, 'could not start');
    assert.match(line.hint ?? '', /^the folder \/data is not writable by uid 65532 \(gid 65532\), the user the service runs as: .*chown 65532:65532/);
  });
});
