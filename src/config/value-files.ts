// NAME_FILE: a variable's value read from a file (a Docker or Kubernetes secret) instead of the
// environment, once, at start-up.
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { read, type Env, type Parsed } from './values.ts';

/**
 * Variables that may be given as NAME_FILE instead: the path of a file holding the value, the
 * Docker and Kubernetes convention for mounted secrets (the value then shows in neither
 * `docker inspect` nor /proc/<pid>/environ). Adding a name here is all a new variable needs: the
 * file's text goes through exactly the checks the variable's own value would.
 */
export const FILE_VARIABLES: readonly string[] = ['WEBHOOK_SECRET', 'WEBHOOK_SECRET_PREVIOUS', 'WHATSAPP_APP_SECRET', 'WHATSAPP_VERIFY_TOKEN', 'READ_TOKEN', 'DATABASE_URL'];
/** Secrets are short; the bound turns a wrong path (a log file, a disk image) into a clear problem. */
export const MAX_VALUE_FILE_BYTES = 64 * 1024;

/** Reads a NAME_FILE file once, at start-up; the problem names no path (people do paste the secret there). */
export type ReadValueFile = (path: string) => Parsed<string>;

/**
 * The file's text as UTF-8, without its trailing line breaks (`echo secret > file` adds one, as
 * shell `$(cat file)` would drop it). Only regular files (Kubernetes' secret files are symlinks to
 * them), at most MAX_VALUE_FILE_BYTES.
 */
export function readValueFile(path: string): Parsed<string> {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { ok: false, problem: 'the path it names is not a regular file' };
    if (stat.size > MAX_VALUE_FILE_BYTES) return { ok: false, problem: `the file it names is larger than ${MAX_VALUE_FILE_BYTES} bytes` };
    const text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(fd));
    return { ok: true, value: text.replace(/(?:\r?\n)+$/, '') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_ENCODING_INVALID_ENCODED_DATA') return { ok: false, problem: 'the file it names is not UTF-8 text' };
    return { ok: false, problem: `cannot read the file it names (${code ?? 'error'})` };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** env, with each FILE_VARIABLES name whose NAME_FILE is set replaced by that file's text. */
export function withFileValues(env: Env, readFile: ReadValueFile, problems: string[]): Env {
  const fromFiles = new Map<string, string>();
  for (const name of FILE_VARIABLES) {
    const path = read(env, `${name}_FILE`);
    if (path === undefined) continue;
    if (read(env, name) !== undefined) {
      problems.push(`${name}_FILE: ${name} is set too; set only one of them`);
      continue;
    }
    const file = readFile(path);
    if (file.ok) fromFiles.set(name, file.value);
    else problems.push(`${name}_FILE: ${file.problem}`);
  }
  return fromFiles.size === 0 ? env : { ...env, ...Object.fromEntries(fromFiles) };
}

