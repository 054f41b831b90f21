// The real entry point (src/main.ts) as a child process on port 0, for tests that kill it, flood it
// or read its peak memory. Every wait is bounded, and the child is SIGKILLed when the test ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

type AfterHook = { after(fn: () => unknown): void };
export type Exit = { code: number | null; signal: NodeJS.Signals | null };

const ROOT = resolve(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'main.ts');

export type ChildService = {
  proc: ChildProcess;
  port: number;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Parsed JSON lines from stdout. */
  lines(): Record<string, unknown>[];
  /** Resolves when a stdout line matches, rejects after `ms` or when the process exits. */
  waitForLine(match: (line: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  exited: Promise<Exit>;
  /** Peak resident memory in bytes (VmHWM from /proc), or undefined where /proc is missing. */
  peakRss(): number | undefined;
};

export function peakRssOf(pid: number | undefined): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmHWM:\s+([0-9]+) kB$/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

export function withinMs<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A child process of the real entry point, with its output collected and parsed as it arrives. */
export type Child = {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Parsed stdout lines (non-JSON lines are kept as {raw}). */
  lines(): Record<string, unknown>[];
  /** Resolves when a stdout line matches; rejects after `ms` or when the process exits first. */
  waitFor(what: string, match: (line: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  exited: Promise<Exit>;
  waitExit(ms?: number): Promise<Exit>;
};

export type SpawnOptions = {
  cwd?: string;
  /** Another entry file (a compiled dist/main.js, or a script), node flags before it and arguments after it. */
  entry?: string;
  nodeArgs?: readonly string[];
  args?: readonly string[];
};

/**
 * Runs src/main.ts (or `entry` with `args`) with exactly `env` (plus PATH); SIGKILLed when the test
 * ends if still running.
 */
export function spawnChild(t: AfterHook, env: Record<string, string>, options: SpawnOptions = {}): Child {
  const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), options.entry ?? MAIN, ...(options.args ?? [])], {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let pending = '';
  const parsed: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  proc.stdout?.setEncoding('utf8');
  proc.stderr?.setEncoding('utf8');
  proc.stdout?.on('data', (chunk: string) => {
    out += chunk;
    pending += chunk;
    const end = pending.lastIndexOf('\n');
    if (end === -1) return;
    for (const raw of pending.slice(0, end).split('\n')) {
      if (raw === '') continue;
      try {
        parsed.push(JSON.parse(raw) as Record<string, unknown>);
      } catch {
        parsed.push({ raw });
      }
    }
    pending = pending.slice(end + 1);
    for (const w of waiters) w();
  });
  proc.stderr?.on('data', (chunk: string) => void (err += chunk));
  const exited = new Promise<Exit>((resolveExit) => {
    proc.on('exit', (code, signal) => {
      resolveExit({ code, signal });
      for (const w of waiters) w();
    });
  });
  t.after(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  });
  const describe = (): string => `stdout:\n${out}\nstderr:\n${err}`;
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    lines: () => parsed,
    waitFor(what, match, ms = 15_000) {
      const found = new Promise<Record<string, unknown>>((resolveLine, reject) => {
        const check = (): void => {
          const line = parsed.find(match);
          if (line !== undefined) {
            waiters.delete(check);
            resolveLine(line);
          } else if (proc.exitCode !== null || proc.signalCode !== null) {
            waiters.delete(check);
            reject(new Error(`the process exited before ${what}\n${describe()}`));
          }
        };
        waiters.add(check);
        check();
      });
      return withinMs(ms, `${what}\n${describe()}`, found);
    },
    exited,
    waitExit: (ms = 15_000) => withinMs(ms, 'exit', exited),
  };
}

export async function startChildService(t: AfterHook, env: Record<string, string>, options: SpawnOptions = {}): Promise<ChildService> {
  const child = spawnChild(t, { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'INFO', ...env }, options);
  const waitForLine = (match: (line: Record<string, unknown>) => boolean, ms = 15_000): Promise<Record<string, unknown>> =>
    child.waitFor('a log line', match, ms);
  const listening = await waitForLine((l) => l['msg'] === 'listening');
  return {
    proc: child.proc,
    port: Number(listening['port']),
    output: () => `${child.stdout()}${child.stderr()}`,
    lines: child.lines,
    waitForLine,
    exited: child.exited,
    peakRss: () => peakRssOf(child.proc.pid),
  };
}
