// A real Docker engine for test/ops/container.test.ts, through the `docker` CLI (DOCKER_HOST as set
// by .ci/run, or the default socket). Outside CI a missing engine or missing base images skip the
// test with the reason; in CI they fail it, because .ci/run starts an engine and builds the images.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { inCi } from './tools.ts';
export { freePort } from './tools.ts';
import { withinMs } from './child-service.ts';

type Skippable = { skip(message?: string): void };
export type DockerResult = { code: number; stdout: string; stderr: string };

const ROOT = join(import.meta.dirname, '..', '..');
/** The base images the Dockerfile names (docker-standins.sh builds local stand-ins for them). */
export const BASE_IMAGES = ['node:24-bookworm', 'gcr.io/distroless/nodejs24-debian12:latest'];

/** Runs `docker ...args`; never rejects on a non-zero exit (the result says how it ended). */
export function docker(args: readonly string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<DockerResult> {
  return new Promise((resolve) => {
    execFile('docker', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 120_000, env: { ...process.env, ...options.env } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr: err !== null && typeof err.code !== 'number' ? `${stderr}${err.message}` : stderr });
    });
  });
}

/** `docker ...args` that must succeed; returns its trimmed stdout. */
export async function dockerOk(args: readonly string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<string> {
  const result = await docker(args, options);
  assert.equal(result.code, 0, `docker ${args.join(' ')}\n${result.stdout}${result.stderr}`);
  return result.stdout.trim();
}

function unavailable(t: Skippable, why: string): undefined {
  const problem = process.env['WEBHOOK_API_DOCKER_PROBLEM'];
  const full = problem !== undefined && problem !== '' ? `${why} (.ci/run: ${problem})` : why;
  if (inCi()) assert.fail(`${full}, and CI must run this check`);
  t.skip(full);
  return undefined;
}

/** `revision` is the commit the image was built from, when known (WEBHOOK_API_IMAGE_REVISION, or built here). */
export type ImageUnderTest = { image: string; buildkitImage: string | undefined; revision: string | undefined; builtHere: boolean };
let resolved: Promise<ImageUnderTest | string> | undefined;

/** Finds (or builds) the project's image once per test file; the string form is why it is unavailable. */
function resolveImage(): Promise<ImageUnderTest | string> {
  resolved ??= (async () => {
    const engine = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8', timeout: 20_000 });
    if (engine.error !== undefined) return `the docker CLI is not installed (Debian package "docker.io"; .ci/run installs it): ${engine.error.message}`;
    if (engine.status !== 0) return `no Docker engine answers at DOCKER_HOST=${process.env['DOCKER_HOST'] ?? '(default socket)'} (.ci/run starts one): ${engine.stderr.trim().split('\n')[0] ?? ''}`;
    const revision = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
    const given = process.env['WEBHOOK_API_IMAGE'];
    const buildkit = process.env['WEBHOOK_API_IMAGE_BUILDKIT'];
    if (given !== undefined && given !== '') {
      return { image: given, buildkitImage: buildkit === '' ? undefined : buildkit, revision: process.env['WEBHOOK_API_IMAGE_REVISION'] || undefined, builtHere: false };
    }
    const missing = (await Promise.all(BASE_IMAGES.map(async (b) => ((await docker(['image', 'inspect', b])).code === 0 ? '' : b)))).filter((b) => b !== '');
    if (missing.length > 0) return `the base images ${missing.join(', ')} are not in the engine (no registry here: build stand-ins with docker-standins.sh, as .ci/run does)`;
    const image = `webhook-api:container-test-${process.pid}`;
    // The classic builder, as .ci/run builds; --network host for npm ci where the engine has no bridge.
    await dockerOk(['build', '--network', 'host', '-q', '--build-arg', `REVISION=${revision}`, '-t', image, ROOT], { timeoutMs: 600_000, env: { DOCKER_BUILDKIT: '0' } });
    return { image, buildkitImage: undefined, revision, builtHere: true };
  })();
  return resolved;
}

/** The image under test, or undefined after skipping the test (outside CI) when there is no engine or no image. */
export async function imageUnderTest(t: Skippable): Promise<ImageUnderTest | undefined> {
  const found = await resolveImage();
  return typeof found === 'string' ? unavailable(t, found) : found;
}

/** Removes the image if this file built it (WEBHOOK_API_IMAGE images belong to whoever built them). */
export async function removeBuiltImage(): Promise<void> {
  const found = resolved === undefined ? undefined : await resolved;
  if (typeof found === 'object' && found.builtHere) await docker(['image', 'rm', '-f', found.image]);
}

/** Follows a container's output until a line matches; rejects when the container ends first or after `ms`. */
export function waitForLog(container: string, match: (line: string) => boolean, ms = 30_000): Promise<string> {
  const logs = spawn('docker', ['logs', '--follow', container], { stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  const found = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('utf8');
      const line = seen.split('\n').find(match);
      if (line !== undefined) resolve(line);
    };
    logs.stdout.on('data', onData);
    logs.stderr.on('data', onData);
    logs.once('exit', () => reject(new Error(`${container} ended before the expected line:\n${seen}`)));
  });
  return withinMs(ms, `a log line of ${container}`, found).finally(() => logs.kill());
}

/** Resolves with the first health_status event of a container at or after `since` (Unix seconds) that is `status`. */
export function waitForHealth(container: string, status: 'healthy' | 'unhealthy', since: number, ms: number): Promise<void> {
  const events = spawn('docker', ['events', '--since', since.toFixed(3), '--filter', `container=${container}`, '--filter', 'event=health_status', '--format', '{{.Status}}'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  const found = new Promise<void>((resolve, reject) => {
    events.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (seen.split('\n').some((l) => l.trim() === `health_status: ${status}`)) resolve();
    });
    events.once('exit', (code) => reject(new Error(`docker events ended (${String(code)}) before ${status}:\n${seen}`)));
  });
  return withinMs(ms, `${container} to become ${status} (events so far: ${JSON.stringify(seen)})`, found).finally(() => events.kill());
}
