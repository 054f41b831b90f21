// The README's run command, `npm start`: its log on stdout is the service's, and a SIGTERM sent to
// npm reaches the service (the script execs node, so no shell is left between them), which shuts
// down gracefully and leaves nothing listening.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '../helpers/service.ts';

const root = join(import.meta.dirname, '..', '..');

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

test('SIGTERM to `npm start` shuts the service down gracefully with exit 0', { timeout: 30_000 }, async (t) => {
  const dir = tempDir();
  const npm = spawn('npm', ['start'], {
    cwd: root,
    env: { ...process.env, WEBHOOK_SECRET: 'npm-start-secret', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: join(dir, 'app.db'), LOG_LEVEL: 'INFO' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so cleanup reaches a service orphaned by a broken script
  });
  t.after(() => {
    try {
      process.kill(-(npm.pid ?? 0), 'SIGKILL');
    } catch {
      // the group is already gone
    }
  });
  let stdout = '';
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    npm.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const found = /"msg":"listening"[^\n]*"port":(\d+)/.exec(stdout);
      if (found) resolve(Number(found[1]));
    });
    npm.once('exit', (code) => reject(new Error(`npm start exited with ${code} before listening:\n${stdout}`)));
  });

  const live = await fetch(`http://127.0.0.1:${port}/health/live`);
  assert.equal(live.status, 200);
  await live.body?.cancel();

  npm.kill('SIGTERM');
  assert.equal(await exited, 0);
  const messages = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { msg?: string }).msg);
  assert.deepEqual(messages.filter((m) => m === 'shutting down' || m === 'stopped'), ['shutting down', 'stopped']);
  assert.equal(await refused(port), true, 'nothing listens after npm exits');
});
