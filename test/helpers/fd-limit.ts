// The open-files limit of this process, and raising it (soft up to hard; as root, hard too) with
// util-linux's prlimit, for tests that hold thousands of connections. Children started afterwards
// inherit the raised limit.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export type FdLimit = { soft: number; hard: number };

export function fdLimit(pid: number = process.pid): FdLimit | undefined {
  try {
    const line = /^Max open files\s+(\S+)\s+(\S+)\s+files/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    if (line === null) return undefined;
    const value = (v: string | undefined): number => (v === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(v));
    return { soft: value(line[1]), hard: value(line[2]) };
  } catch {
    return undefined;
  }
}

/** Raises this process's limit to at least `wanted` where it can; returns the limit before and after. */
export function raiseFdLimit(wanted: number): { before: FdLimit | undefined; after: FdLimit | undefined; how: string } {
  const before = fdLimit();
  if (before === undefined) return { before, after: before, how: 'no /proc: unchanged' };
  if (before.soft >= wanted) return { before, after: before, how: 'already enough' };
  const isRoot = process.getuid?.() === 0;
  const hard = isRoot ? Math.max(before.hard, wanted) : before.hard;
  const soft = Math.min(hard, Math.max(before.soft, wanted));
  const run = spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${soft}:${hard}`], { encoding: 'utf8', timeout: 10_000 });
  const how = run.error !== undefined ? `prlimit failed: ${run.error.message}` : run.status === 0 ? `prlimit --nofile=${soft}:${hard}` : `prlimit exited ${run.status}: ${run.stderr.trim()}`;
  return { before, after: fdLimit(), how };
}
