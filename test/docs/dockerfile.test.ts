// No Docker engine runs here, so the image cannot be built in CI. This test does what its build
// stage does with exactly the files the Dockerfile copies (and .dockerignore lets through), then
// checks that what the final stage runs exists and works without node_modules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));

/** Sources of the build stage's COPY lines (those without --from). */
function buildContextSources(): string[] {
  return [...dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) => (m[1] ?? '').trim().split(/\s+/).slice(0, -1));
}

test('every file the Dockerfile copies exists and is not excluded by .dockerignore', () => {
  const sources = buildContextSources();
  assert.deepEqual(sources.sort(), ['package-lock.json', 'package.json', 'scripts', 'src', 'tsconfig.build.json', 'tsconfig.json']);
  for (const source of sources) {
    assert.ok(existsSync(join(root, source)), `${source} exists`);
    assert.ok(!ignored.includes(source), `${source} is not in .dockerignore`);
  }
});

test('the build stage builds from those files alone, and the final stage runs dist/ with its health check', { timeout: 60_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'docker-stage-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const app = join(work, 'app');
  for (const source of buildContextSources()) cpSync(join(root, source), join(app, source), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(app, 'node_modules')); // stands in for `npm ci`
  const build = spawnSync('npm', ['run', 'build'], { cwd: app, encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);

  // Final stage: only dist/, no package.json above it, no node_modules.
  const final = join(work, 'final');
  cpSync(join(app, 'dist'), join(final, 'dist'), { recursive: true });
  const cmd = /^CMD \["\/app\/(dist\/[^"]+)"\]$/m.exec(dockerfile)?.[1];
  const check = /CMD \["\/nodejs\/bin\/node", "\/app\/(dist\/[^"]+)"\]/.exec(dockerfile)?.[1];
  assert.equal(cmd, 'dist/main.js');
  assert.equal(check, 'dist/healthcheck.js');

  const env = { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: '0', DATABASE_URL: `sqlite:///${join(work, 'data', 'app.db')}`, WEBHOOK_SECRET: 'docker-secret' };
  const service = spawn(process.execPath, [cmd], { cwd: final, env, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => service.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) => service.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    service.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const found = /"msg":"listening"[^\n]*"port":(\d+)/.exec(out);
      if (found) resolve(Number(found[1]));
    });
    service.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });

  const probe = (probePort: number): Promise<number | null> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [check], { cwd: final, env: { ...env, PORT: String(probePort) }, stdio: 'ignore' });
      child.once('exit', (code) => resolve(code));
    });
  assert.equal(await probe(port), 0, 'healthy while ready');
  service.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.equal(await probe(port), 1, 'unhealthy when nothing answers');
});
