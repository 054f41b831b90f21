// External tools some tests need (promtool, prometheus from Debian's `prometheus` package; curl).
// Outside CI a missing tool skips those tests; in CI (`CI` set, as .ci/run runs) it fails them,
// because .ci/run installs the package and a silent skip would hide a check that never ran.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

type Skippable = { skip(message?: string): void };

export const inCi = (): boolean => {
  const ci = process.env['CI'];
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
};

/** True when `name --version` runs. Otherwise skips the test, or fails it in CI. */
export function haveTool(t: Skippable, name: string, debianPackage = 'prometheus'): boolean {
  const probe = spawnSync(name, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.error === undefined && probe.status === 0) return true;
  const why = `${name} is not installed (Debian package "${debianPackage}"; .ci/run installs it)`;
  if (inCi()) assert.fail(`${why}, and CI must run this check`);
  t.skip(why);
  return false;
}

/** A TCP port free on loopback right now, for a tool (or a container on the host network) that needs a fixed one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
