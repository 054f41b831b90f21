// Runs the service as a child process for benchmarks: this Node binary, an entry file (the
// compiled dist/main.js that production runs, or src/main.ts), port 0,
// a throw-away database; the port comes from the JSON "listening" line on the child's stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
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

/**
 * Starts the child with its stdout (one JSON log line per request) going to `logFile`, as a log
 * driver or journal would take it: a pipe read by the busy bench process would fill up and block
 * the service's synchronous stdout writes, measuring the bench instead of the service. The port
 * comes from the "listening" line, read back from the file.
 */
export function startServiceChild(entry: string, env: Record<string, string>, logFile: string): Promise<ServiceChild> {
  const out = openSync(logFile, 'w');
  const child: ChildProcess = spawn(process.execPath, [entry], {
    // NODE_OPTIONS as the image sets it (Dockerfile), so the bench measures what production runs.
    env: { ...process.env, NODE_OPTIONS: '--max-semi-space-size=4', LOG_LEVEL: 'INFO', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', out, 'pipe'],
  });
  closeSync(out); // the child has its own copy
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString('utf8')).slice(-4096); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const kill = (): void => { if (alive()) child.kill('SIGKILL'); };

  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const port = readFileSync(logFile, 'utf8').split('\n').map(listeningPort).find((p) => p !== undefined);
      if (port !== undefined) {
        clearInterval(poll);
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
      } else if (!alive() || Date.now() - started > START_TIMEOUT_MS) {
        clearInterval(poll);
        kill();
        const logTail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join('\n');
        reject(new Error(`service did not start: ${alive() ? `no "listening" line within ${START_TIMEOUT_MS} ms` : `exited with ${child.exitCode ?? child.signalCode}`}${stderr === '' ? '' : `\n${stderr.trim()}`}${logTail === '' ? '' : `\n${logTail}`}`));
      }
    }, 25);
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
