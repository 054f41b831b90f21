// Runs the service as a child process for benchmarks: this Node binary, an entry file (the
// compiled dist/main.js that production runs, or src/main.ts), port 0,
// a throw-away database; the port comes from the JSON "listening" line on the child's stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ENTRIES: Readonly<Record<string, string>> = {
  dist: fileURLToPath(new URL('../../dist/main.js', import.meta.url)),
  src: fileURLToPath(new URL('../../src/main.ts', import.meta.url)),
};
const START_TIMEOUT_MS = 15_000;

export type ServiceChild = {
  port: number;
  pid: number;
  alive(): boolean;
  /** SIGTERM (graceful shutdown), SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  kill(): void;
  stderrTail(): string;
};

export function startServiceChild(entry: string, env: Record<string, string>): Promise<ServiceChild> {
  const child: ChildProcess = spawn(process.execPath, [entry], {
    env: { ...process.env, LOG_LEVEL: 'INFO', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString('utf8')).slice(-4096); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const kill = (): void => { if (alive()) child.kill('SIGKILL'); };

  return new Promise((resolve, reject) => {
    let pending = '';
    let port: number | undefined;
    const fail = (why: string): void => {
      kill();
      reject(new Error(`service did not start: ${why}${stderr === '' ? '' : `\n${stderr.trim()}`}`));
    };
    const timer = setTimeout(() => fail(`no "listening" line within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.once('exit', (code, signal) => { if (port === undefined) { clearTimeout(timer); fail(`exited with ${code ?? signal}`); } });
    child.once('error', (err) => { clearTimeout(timer); fail(err.message); });
    // Every request logs a line; after start-up the output is drained unread so the child's
    // (synchronous, on Linux) pipe writes never block and the bench spends no CPU parsing them.
    child.stdout?.on('data', (chunk: Buffer) => {
      if (port !== undefined) return;
      pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const found = listeningPort(line);
        if (found === undefined) continue;
        port = found;
        pending = '';
        clearTimeout(timer);
        resolve({
          port,
          pid: child.pid ?? -1,
          alive,
          kill,
          stderrTail: () => stderr,
          stop: async (graceMs = 12_000) => {
            if (!alive()) return child.exitCode;
            child.kill('SIGTERM');
            const force = setTimeout(kill, graceMs);
            const code = await exited;
            clearTimeout(force);
            return code;
          },
        });
        return;
      }
    });
  });
}

function listeningPort(line: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const msg: unknown = Reflect.get(parsed, 'msg');
    const port: unknown = Reflect.get(parsed, 'port');
    return msg === 'listening' && typeof port === 'number' && port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}

/** VmRSS (now) and VmHWM (peak) in KiB from /proc, or null off Linux / after exit. */
export function memoryKiB(pid: number): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const rss = field('VmRSS');
    const peak = field('VmHWM');
    return Number.isFinite(rss) && Number.isFinite(peak) ? { rss, peak } : null;
  } catch {
    return null;
  }
}
