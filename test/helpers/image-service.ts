// The service as the image runs it, without a Docker engine: the compiled JavaScript (tsc into a
// temporary folder, as the build stage does), the Dockerfile's NODE_OPTIONS and node flags, and the
// heap size node would pick inside the Kubernetes manifest's memory limit. There is no container
// here, so `--max-old-space-size-percentage=P` (sized by node from the cgroup's limit) becomes the
// `--max-old-space-size` it amounts to under that limit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startChildService, type ChildService } from './child-service.ts';
import { at, parseYaml } from './yaml-subset.ts';
import { copyInboxFiles } from '../../src/inbox/files.ts';

type AfterHook = { after(fn: () => unknown): void };

const ROOT = resolve(import.meta.dirname, '..', '..');

export type ImageSettings = {
  /** The image's ENV, less what the test sets itself (HOST, PORT, DATABASE_URL). */
  env: Record<string, string>;
  nodeOptions: string;
  /** The CMD's node flags, as the image passes them. */
  cmdFlags: string[];
  /** resources.limits.memory of the Deployment, in MiB. */
  memoryLimitMiB: number;
  /** The flags with the heap percentage turned into the size it gives under that limit. */
  nodeArgs: string[];
};

export function imageSettings(): ImageSettings {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const env = Object.fromEntries([...(/^ENV ((?:.*\\\n)*.*)$/m.exec(finalStage)?.[1] ?? '').matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(finalStage)?.[1] ?? '[]') as string[];
  const deployment = parseYaml(readFileSync(join(ROOT, 'k8s', 'deployment.yaml'), 'utf8'));
  const limit = String(at(deployment, 'spec', 'template', 'spec', 'containers', 0, 'resources', 'limits', 'memory'));
  const mi = /^([0-9]+)Mi$/.exec(limit)?.[1];
  const gi = /^([0-9]+)Gi$/.exec(limit)?.[1];
  const memoryLimitMiB = mi !== undefined ? Number(mi) : Number(gi) * 1024;
  assert.ok(memoryLimitMiB > 0, `memory limit ${limit}`);
  const cmdFlags = cmd.slice(0, -1);
  const nodeArgs = cmdFlags.map((flag) => {
    const pct = /^--max-old-space-size-percentage=([0-9.]+)$/.exec(flag)?.[1];
    return pct === undefined ? flag : `--max-old-space-size=${Math.floor((Number(pct) / 100) * memoryLimitMiB)}`;
  });
  const { HOST: _host, PORT: _port, DATABASE_URL: _url, ...runtime } = env;
  return { env: runtime, nodeOptions: env['NODE_OPTIONS'] ?? '', cmdFlags, memoryLimitMiB, nodeArgs };
}

/** Compiles src/ into a temporary folder (removed after the test); returns its main.js. */
export function buildDist(t: AfterHook): string {
  const dir = mkdtempSync(join(tmpdir(), 'webhook-image-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const outDir = join(dir, 'dist');
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const built = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  assert.equal(built.status, 0, `tsc: ${built.stdout}${built.stderr}${built.error?.message ?? ''}`);
  // The build's one other step (scripts/finish-build.ts): the inbox page's files beside their handler.
  copyInboxFiles(join(ROOT, 'src', 'inbox'), join(outDir, 'inbox'));
  return join(outDir, 'main.js');
}

/** The compiled service with the image's settings, as a child process on port 0. */
export async function startImageService(t: AfterHook, entry: string, env: Record<string, string>): Promise<{ svc: ChildService; settings: ImageSettings }> {
  const settings = imageSettings();
  const svc = await startChildService(t, { ...settings.env, ...env }, { entry, nodeArgs: settings.nodeArgs });
  return { svc, settings };
}
