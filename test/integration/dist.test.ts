// The build: compile with the repo's tsc into a temp folder, copy nothing else, and run the compiled
// entry point from a folder with no node_modules and no package.json (as the distroless image does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { copyInboxFiles } from '../../src/inbox/files.ts';
import { sign } from '../../src/webhook/signature.ts';

type Line = Record<string, unknown>;
type Exit = { code: number | null; signal: NodeJS.Signals | null };

const ROOT = resolve(import.meta.dirname, '..', '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const BUILD_WAIT_MS = 120_000;
const WAIT_MS = 10_000;
const SECRET = 'dist-test-secret';

function bounded<T>(what: string, ms: number, promise: Promise<T>, describe: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}\n${describe()}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function collect(proc: ChildProcess): { out: () => string; err: () => string; exit: Promise<Exit> } {
  let out = '';
  let err = '';
  proc.stdout?.setEncoding('utf8');
  proc.stderr?.setEncoding('utf8');
  proc.stdout?.on('data', (c: string) => (out += c));
  proc.stderr?.on('data', (c: string) => (err += c));
  const exit = new Promise<Exit>((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  return { out: () => out, err: () => err, exit };
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js'))
    .map((e) => join(e.parentPath, e.name));
}

/** Every folder from `dir` up to the root: none may hold a package.json that would decide the module type. */
function ancestors(dir: string): string[] {
  const all = [dir];
  while (dirname(all[all.length - 1] ?? '/') !== all[all.length - 1]) all.push(dirname(all[all.length - 1] ?? '/'));
  return all;
}

test('the compiled build runs on its own: listens, serves, stores, and exits 0 on SIGTERM', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'webhook-dist-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const outDir = join(tmp, 'dist');

  const build = spawn(process.execPath, [TSC, '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const built = collect(build);
  t.after(() => {
    if (build.exitCode === null && build.signalCode === null) build.kill('SIGKILL');
  });
  const buildExit = await bounded('tsc', BUILD_WAIT_MS, built.exit, () => `${built.out()}${built.err()}`);
  assert.deepEqual(buildExit, { code: 0, signal: null }, `${built.out()}${built.err()}`);
  assert.equal(`${built.out()}${built.err()}`, '');
  // The build's one other step (scripts/finish-build.ts): the inbox page's files beside their handler.
  copyInboxFiles(join(ROOT, 'src', 'inbox'), join(outDir, 'inbox'));

  // Only the compiled JavaScript: no package.json, no node_modules, no TypeScript anywhere near it.
  assert.deepEqual(readdirSync(tmp), ['dist']);
  for (const dir of ancestors(tmp)) {
    assert.ok(!existsSync(join(dir, 'package.json')), `${dir}/package.json would change how dist/ loads`);
    assert.ok(!existsSync(join(dir, 'node_modules')), `${dir}/node_modules would make dist/ depend on it`);
  }
  const files = jsFiles(outDir);
  assert.ok(files.includes(join(outDir, 'main.js')));
  for (const file of files) {
    const code = readFileSync(file, 'utf8');
    assert.ok(!/from\s+["'][^"']+\.ts["']/.test(code), `${file} imports a .ts file`);
    assert.ok(!/from\s+["'](?!node:|\.)/.test(code), `${file} imports a package that is not node:*`);
  }

  const proc = spawn(process.execPath, [join(outDir, 'main.js')], {
    cwd: tmp,
    env: { PATH: process.env['PATH'] ?? '', WEBHOOK_SECRET: SECRET, DATABASE_URL: 'sqlite:///data/app.db', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'INFO' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run = collect(proc);
  t.after(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await run.exit;
    }
  });
  const describe = (): string => `stdout:\n${run.out()}\nstderr:\n${run.err()}`;
  const lines = (): Line[] =>
    run
      .out()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Line);

  const listening = await bounded(
    'the listening line',
    WAIT_MS,
    new Promise<Line>((resolveLine, reject) => {
      const check = (): void => {
        const complete = run.out().slice(0, run.out().lastIndexOf('\n') + 1);
        const found = complete
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Line)
          .find((l) => l['msg'] === 'listening');
        if (found !== undefined) {
          proc.stdout?.off('data', check);
          resolveLine(found);
        }
      };
      proc.stdout?.on('data', check);
      void run.exit.then(() => reject(new Error(`exited before listening\n${describe()}`)));
      check();
    }),
    describe,
  );
  const port = listening['port'];
  assert.equal(typeof port, 'number');
  const base = `http://127.0.0.1:${String(port)}`;

  const live = await fetch(`${base}/health/live`);
  assert.equal(live.status, 200);
  assert.deepEqual(await live.json(), { status: 'ok' });

  const body = JSON.stringify({ message_id: 'dist-1', from: '+14155550100', to: '+919876543210', ts: '2025-01-15T10:00:00Z', text: 'built' });
  const posted = await fetch(`${base}/webhook`, { method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-Signature': sign(SECRET, body) } });
  assert.equal(posted.status, 200);
  assert.deepEqual(await posted.json(), { status: 'ok' });
  const listed = await fetch(`${base}/messages`);
  assert.equal(listed.status, 200);
  assert.deepEqual(await listed.json(), {
    data: [{ message_id: 'dist-1', from: '+14155550100', to: '+919876543210', ts: '2025-01-15T10:00:00Z', text: 'built' }],
    total: 1,
    limit: 50,
    offset: 0,
  });
  assert.ok(existsSync(join(tmp, 'data', 'app.db')), 'relative DATABASE_URL resolved against the working directory');
  const inbox = await fetch(`${base}/inbox`);
  assert.equal(inbox.status, 200);
  const script = /src="(inbox\/inbox\.js\?v=[0-9a-f]+)"/.exec(await inbox.text())?.[1];
  assert.ok(script, 'the page links its script');
  const served = await fetch(`${base}/${script}`);
  assert.equal(served.status, 200);
  assert.equal(await served.text(), readFileSync(join(ROOT, 'src', 'inbox', 'inbox.js'), 'utf8'));

  assert.ok(proc.kill('SIGTERM'));
  assert.deepEqual(await bounded('exit', WAIT_MS, run.exit, describe), { code: 0, signal: null });
  assert.equal(run.err(), '', 'nothing on stderr (no module-type or experimental warnings)');
  const msgs = lines().map((l) => l['msg']);
  assert.ok(msgs.includes('shutting down'));
  assert.ok(msgs.includes('stopped'));
});
