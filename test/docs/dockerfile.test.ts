// What the Dockerfile does, replayed with plain files (test/ops/container.test.ts builds and runs the
// real image where a Docker engine answers): its build stage with exactly the files it copies (and
// that .dockerignore lets through), its final stage by replaying every `COPY --from=build` into an
// empty root folder, then it runs that folder's CMD and HEALTHCHECK with only the node binary, as
// the distroless image does (no node_modules, no npm, no shell).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { sign } from '../../src/webhook/signature.ts';

const root = join(import.meta.dirname, '..', '..');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const stages = dockerfile.split(/^(?=FROM )/m).filter((s) => s.startsWith('FROM '));
const [buildStage = '', finalStage = ''] = stages;
const WORKDIR = /^WORKDIR (\S+)$/m.exec(finalStage)?.[1] ?? '/';

/** A .dockerignore pattern as Docker reads it: `**` any number of folders, `*` and `?` within one name. */
function dockerGlob(pattern: string): RegExp {
  let source = '';
  const glob = pattern.replace(/^\/+|\/+$/g, '');
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i] ?? '';
    if (c === '*' && glob[i + 1] === '*') {
      i += 1;
      if (glob[i + 1] === '/') {
        i += 1;
        source += '(?:.*/)?';
      } else source += '.*';
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** .dockerignore semantics (moby/patternmatcher): the last matching pattern wins, `!` re-includes, a folder's rule covers its contents. */
function dockerIgnores(path: string): boolean {
  const patterns = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const glob = dockerGlob(pattern.slice(negated ? 1 : 0));
    if (prefixes.some((p) => glob.test(p))) ignored = !negated;
  }
  return ignored;
}

/** Sources of the build stage's COPY lines (those without --from). */
function buildContextSources(): string[] {
  return [...buildStage.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) => (m[1] ?? '').trim().split(/\s+/).slice(0, -1));
}

/** The final stage's `COPY --from=build [--chown=…] SRC DEST` lines. */
function finalCopies(): { src: string; dest: string; chown: string | undefined }[] {
  return [...finalStage.matchAll(/^COPY --from=build (?:--chown=(\S+) )?(\S+) (\S+)$/gm)].map((m) => ({ chown: m[1], src: m[2] ?? '', dest: m[3] ?? '' }));
}

const ENV = Object.fromEntries([...(/^ENV ((?:.*\\\n)*.*)$/m.exec(finalStage)?.[1] ?? '').matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1] ?? '', m[2] ?? '']));

test('every file the build stage copies exists and reaches the build context; nothing else does', () => {
  const sources = buildContextSources();
  assert.deepEqual([...sources].sort(), ['package-lock.json', 'package.json', 'scripts', 'src', 'tsconfig.build.json', 'tsconfig.json']);
  for (const source of sources) {
    assert.ok(existsSync(join(root, source)), `${source} exists`);
    assert.ok(!dockerIgnores(source), `${source} is not excluded by .dockerignore`);
    if (statSync(join(root, source)).isDirectory()) {
      for (const file of readdirSync(join(root, source), { recursive: true, encoding: 'utf8' })) {
        assert.ok(!dockerIgnores(`${source}/${file}`), `${source}/${file} reaches the builder`);
      }
    }
  }
  for (const local of ['.env', 'data/app.db', 'app.db-wal', 'node_modules/typescript/package.json', 'dist/main.js', '.git/HEAD', 'test/unit/x.test.ts', 'k8s/deployment.yaml', 'README.md']) {
    assert.ok(dockerIgnores(local), `${local} stays out of the build context`);
  }
});

test('inside the allowed folders, local secrets, databases, dependencies and build output stay out of the build context too', () => {
  const planted = [
    'src/.env', 'src/.env.local', 'scripts/.env.production', 'src/storage/.env',
    'src/app.db', 'scripts/data/app.db', 'src/app.db-wal', 'src/app.db-shm', 'src/app.db-journal', 'scripts/seed.sqlite', 'scripts/x.sqlite3',
    'src/tls/server.key', 'scripts/cert.pem', 'src/secrets/webhook_secret',
    'scripts/node_modules/left-over/index.js', 'src/dist/main.js', 'src/.git/config', 'scripts/bench.log', 'src/app.ts~', 'src/.app.ts.swp',
  ];
  for (const path of planted) assert.ok(dockerIgnores(path), `${path} stays out of the build context`);
  for (const path of ['src/main.ts', 'src/healthcheck.cts', 'src/storage/sqlite/database.ts', 'scripts/lib/seed-db.ts', 'scripts/seed.ts']) {
    assert.ok(!dockerIgnores(path), `${path} reaches the builder`);
  }
});

test('the final stage is built as root and switches to 65532 only after creating /app: the code is not the service user\'s', () => {
  assert.match(finalStage, /^FROM gcr\.io\/distroless\/nodejs24-debian12:latest$/m, 'the root variant (:nonroot would make BuildKit create /app as 65532)');
  const instructions = finalStage.split('\n').filter((l) => /^[A-Z]+ /.test(l)).map((l) => l.split(' ')[0] ?? '');
  const user = instructions.indexOf('USER');
  assert.equal(instructions.lastIndexOf('USER'), user, 'one USER line');
  assert.ok(user > instructions.lastIndexOf('WORKDIR') && user > instructions.lastIndexOf('COPY'), `USER after every WORKDIR and COPY: ${instructions.join(' ')}`);
  for (const { src, chown } of finalCopies()) if (src !== '/data') assert.equal(chown, undefined, `${src} is copied as root`);
  assert.doesNotMatch(dockerfile, /^# syntax=/m, 'no frontend to pull: the engine builds it offline');
});

test('OCI labels: title, description, version (package.json\'s), revision, source, licenses', () => {
  const labels = Object.fromEntries([...(/^LABEL ((?:.*\\\n)*.*)$/m.exec(finalStage)?.[1] ?? '').matchAll(/(org\.opencontainers\.image\.\w+)="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
  assert.deepEqual(Object.keys(labels).sort(), ['description', 'licenses', 'revision', 'source', 'title', 'version'].map((k) => `org.opencontainers.image.${k}`));
  const args = Object.fromEntries([...finalStage.matchAll(/^ARG (\w+)=(.*)$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  assert.equal(args['VERSION'], pkg.version, 'the default VERSION is package.json\'s');
  assert.equal(labels['org.opencontainers.image.version'], '$VERSION');
  assert.equal(labels['org.opencontainers.image.revision'], '$REVISION');
  assert.equal(labels['org.opencontainers.image.source'], '$SOURCE');
  assert.equal(labels['org.opencontainers.image.licenses'], '$LICENSES');
});

test('the final stage holds only package.json, the compiled JavaScript and an empty /data owned by the image user', () => {
  const copies = finalCopies();
  assert.deepEqual(copies.map((c) => c.src).sort(), ['/app/dist', '/app/package.json', '/data']);
  const user = /^USER (\d+):(\d+)$/m.exec(finalStage);
  assert.ok(user, 'a numeric USER');
  assert.equal(user[1], '65532', 'the distroless nonroot uid');
  assert.equal(copies.find((c) => c.src === '/data')?.chown, `${user[1]}:${user[2]}`, '/data belongs to that user');
  assert.match(buildStage, /mkdir -p \/data/);
  assert.match(finalStage, /^VOLUME \["\/data"\]$/m);
  assert.doesNotMatch(finalStage, /^RUN /m, 'no RUN: the distroless image has no shell');
});

test('the final stage, replayed from the build, serves and its health check tells ready from down', { timeout: 90_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'docker-stage-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));

  // Build stage: WORKDIR /app with exactly the copied files; node_modules stands in for `npm ci`.
  const buildRoot = join(work, 'build');
  const app = join(buildRoot, 'app');
  for (const source of buildContextSources()) cpSync(join(root, source), join(app, source), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'));
  const build = spawnSync('npm', ['run', 'build'], { cwd: app, encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  mkdirSync(join(buildRoot, 'data'));

  // Final stage: an empty root, then each COPY --from=build.
  const image = join(work, 'image');
  const inImage = (path: string): string => join(image, isAbsolute(path) ? path : join(WORKDIR, path));
  for (const { src, dest } of finalCopies()) {
    mkdirSync(dirname(inImage(dest)), { recursive: true });
    cpSync(join(buildRoot, src), inImage(dest), { recursive: true });
  }
  const files = readdirSync(image, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(image, join(e.parentPath, e.name)));
  assert.ok(files.length > 10);
  for (const file of files) assert.match(file, /^app\/(package\.json|dist\/.+\.(js|cjs|json)|dist\/inbox\/(inbox\.html|inbox\.css|icon\.svg))$/, `${file} belongs in the image`);
  for (const name of ['inbox.html', 'inbox.css', 'inbox.js', 'icon.svg']) assert.ok(files.includes(`app/dist/inbox/${name}`), `the build copies the inbox page's ${name}`);
  assert.deepEqual(readdirSync(join(image, 'data')), [], '/data starts empty');

  // CMD is node's flags, then the entry file (the image's entrypoint is node itself).
  const cmdLine = JSON.parse(/^CMD (\[.*\])$/m.exec(finalStage)?.[1] ?? '[]') as string[];
  const cmd = cmdLine.at(-1);
  const nodeFlags = cmdLine.slice(0, -1);
  const check = /^ {2}CMD \["\/nodejs\/bin\/node", "([^"]+)"\]$/m.exec(finalStage)?.[1];
  assert.equal(cmd, '/app/dist/main.js');
  assert.equal(check, '/app/dist/healthcheck.cjs');
  assert.ok(existsSync(inImage(cmd ?? '')) && existsSync(inImage(check)));

  // The image's own environment, with the port picked by the OS and /data inside the replayed root.
  assert.equal(ENV['DATABASE_URL'], 'sqlite:////data/app.db');
  const env = {
    ...ENV,
    DATABASE_URL: `sqlite:///${join(image, 'data', 'app.db')}`,
    HOST: '127.0.0.1',
    PORT: '0',
    WEBHOOK_SECRET: 'docker-secret',
  };
  const service = spawn(process.execPath, [...nodeFlags, inImage(cmd ?? '')], { cwd: inImage('.'), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  service.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  service.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => service.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (service.exitCode === null && service.signalCode === null) service.kill('SIGKILL');
  });
  const port = await new Promise<number>((resolve, reject) => {
    service.stdout.on('data', () => {
      const found = /"msg":"listening"[^\n]*"port":(\d+)/.exec(out);
      if (found) resolve(Number(found[1]));
    });
    service.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}${err}`)));
  });
  const base = `http://127.0.0.1:${port}`;

  const ready = await fetch(`${base}/health/ready`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { status: 'ready' });
  const body = JSON.stringify({ message_id: 'img-1', from: '+14155550100', to: '+919876543210', ts: '2025-01-15T10:00:00Z' });
  const posted = await fetch(`${base}/webhook`, { method: 'POST', body, headers: { 'X-Signature': sign('docker-secret', body) } });
  assert.equal(posted.status, 200);
  await posted.body?.cancel();
  assert.match(await (await fetch(`${base}/metrics`)).text(), /^messages_stored 1$/m);
  // The inbox page and its assets, from the image's files.
  const inbox = await fetch(`${base}/inbox`);
  assert.equal(inbox.status, 200);
  assert.equal(inbox.headers.get('content-security-policy'), "default-src 'self'");
  for (const link of [...(await inbox.text()).matchAll(/(?:href|src)="(inbox\/[^"]+)"/g)].map((m) => m[1] ?? '')) {
    const asset = await fetch(`${base}/${link}`);
    assert.equal(asset.status, 200, link);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    await asset.body?.cancel();
  }
  assert.ok(existsSync(join(image, 'data', 'app.db')), 'the database is written under /data');

  const probe = (probePort: number): Promise<number | null> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [inImage(check)], { cwd: inImage('.'), env: { ...env, PORT: String(probePort) }, stdio: 'ignore' });
      child.once('exit', (code) => resolve(code));
    });
  const readyCount = async (): Promise<string | undefined> => /^http_requests_total\{path="\/health\/ready",status="200"\} (\d+)$/m.exec(await (await fetch(`${base}/metrics`)).text())?.[1];
  const before = await readyCount();
  assert.equal(await probe(port), 0, 'healthy while ready');
  assert.equal(await readyCount(), before, 'the health check is not counted');
  service.kill('SIGTERM');
  assert.equal(await exited, 0, `${out}${err}`);
  assert.equal(err, '', 'nothing on stderr');
  assert.notEqual(await probe(port), 0, 'unhealthy when nothing answers');
});
