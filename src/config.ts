// The only reader of the environment. Parsed once at start-up; every problem is reported, not just
// the first, so an operator fixes a broken deployment in one round trip.

import { createSecretKey, type KeyObject } from 'node:crypto';
import { parseReadToken, type ReadToken } from './auth/read-token.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Config = Readonly<{
  /**
   * WEBHOOK_SECRET's UTF-8 bytes as a KeyObject (HMAC with a KeyObject is ~5x cheaper than with a
   * Buffer, and inspecting it never shows the bytes); null when unset or empty (not ready).
   */
  webhookSecret: KeyObject | null;
  /** A filesystem path or ":memory:". */
  databasePath: string;
  logLevel: LogLevel;
  port: number;
  host: string;
  maxBodyBytes: number;
  /** READ_TOKEN (only its digest is kept); null: the read routes are open. */
  readToken: ReadToken | null;
  /** Live-tail streams open at once (MAX_STREAMS). */
  maxStreams: number;
}>;

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_DATABASE_URL = 'sqlite:///./data/app.db';
const MAX_BODY_CEILING = 1024 * 1024 * 1024;

const LEVELS: Readonly<Record<string, LogLevel>> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  WARN: 'warn',
  ERROR: 'error',
};

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Empty values count as unset: `FOO=` in a compose file usually means "use the default". */
function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

export function parseDatabaseUrl(url: string): Parsed<string> {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url);
  if (scheme === null || url === ':memory:') return { ok: true, value: url };
  const name = scheme[1] ?? '';
  // Only the scheme is echoed: a URL may carry credentials.
  if (name.toLowerCase() !== 'sqlite') {
    return { ok: false, problem: `DATABASE_URL: unsupported scheme "${name}"; use sqlite:///relative/path.db, sqlite:////absolute/path.db or a file path` };
  }
  if (!url.slice(scheme[0].length).startsWith('///')) {
    return { ok: false, problem: 'DATABASE_URL: a sqlite URL needs three slashes (sqlite:///relative.db) or four (sqlite:////absolute.db)' };
  }
  const path = url.slice(scheme[0].length + 3);
  if (path === '') return { ok: false, problem: 'DATABASE_URL: the sqlite URL names no file' };
  if (path.includes('?')) return { ok: false, problem: 'DATABASE_URL: query parameters are not supported' };
  return { ok: true, value: path };
}

function parseInteger(name: string, raw: string, min: number, max: number): Parsed<number> {
  const value = Number(raw.trim());
  if (!/^\s*[0-9]+\s*$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    return { ok: false, problem: `${name}: must be a whole number from ${min} to ${max}` };
  }
  return { ok: true, value };
}

function parseLogLevel(raw: string): Parsed<LogLevel> {
  const level = LEVELS[raw.trim().toUpperCase()];
  return level === undefined
    ? { ok: false, problem: 'LOG_LEVEL: must be one of DEBUG, INFO, WARNING (or WARN), ERROR' }
    : { ok: true, value: level };
}

export function loadConfig(env: Env): ConfigResult {
  const problems: string[] = [];
  const take = <T>(parsed: Parsed<T>, fallback: T): T => {
    if (parsed.ok) return parsed.value;
    problems.push(parsed.problem);
    return fallback;
  };

  const secret = env['WEBHOOK_SECRET'];
  const port = read(env, 'PORT');
  const level = read(env, 'LOG_LEVEL');
  const maxBody = read(env, 'MAX_BODY_BYTES');
  const maxStreams = read(env, 'MAX_STREAMS');
  const config: Config = Object.freeze({
    webhookSecret: secret === undefined || secret === '' ? null : createSecretKey(Buffer.from(secret, 'utf8')),
    databasePath: take(parseDatabaseUrl(read(env, 'DATABASE_URL') ?? DEFAULT_DATABASE_URL), ''),
    logLevel: level === undefined ? 'info' : take(parseLogLevel(level), 'info'),
    port: port === undefined ? 8000 : take(parseInteger('PORT', port, 0, 65535), 0),
    host: read(env, 'HOST')?.trim() ?? '0.0.0.0',
    maxBodyBytes: maxBody === undefined ? 262144 : take(parseInteger('MAX_BODY_BYTES', maxBody, 1, MAX_BODY_CEILING), 0),
    readToken: take(parseReadToken(read(env, 'READ_TOKEN')), null),
    maxStreams: maxStreams === undefined ? 100 : take(parseInteger('MAX_STREAMS', maxStreams, 0, 10_000), 0),
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
}
