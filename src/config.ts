// The only reader of the environment. Parsed once at start-up; every problem is reported, not just
// the first, so an operator fixes a broken deployment in one round trip.

import { createHash, createSecretKey, type KeyObject } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { MAX_PREVIOUS_KEYS, KEY_NAMES, signingKey, WHSEC_MAX_BYTES, WHSEC_MIN_BYTES, WHSEC_PREFIX, type SigningKey } from './webhook/schemes/keys.ts';
import { parseReadToken, type ReadToken } from './auth/read-token.ts';
import { isPostgresUrl, parsePostgresUrl, type PgConnectionConfig } from './storage/postgres/url.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Where messages are stored, from DATABASE_URL: a SQLite file (the default), or a PostgreSQL
 * database shared by several replicas. Only storage/open.ts looks at `kind`.
 */
export type DatabaseTarget =
  | Readonly<{ kind: 'sqlite'; path: string }>
  | Readonly<{ kind: 'postgres'; connection: PgConnectionConfig; poolSize: number }>;

export type Config = Readonly<{
  /**
   * WEBHOOK_SECRET's UTF-8 bytes as a KeyObject (HMAC with a KeyObject is ~5x cheaper than with a
   * Buffer, and inspecting it never shows the bytes); null when unset or empty (not ready).
   */
  webhookSecret: KeyObject | null;
  database: DatabaseTarget;
  /** The SQLite file (a filesystem path or ":memory:"); empty when DATABASE_URL names PostgreSQL. */
  databasePath: string;
  logLevel: LogLevel;
  port: number;
  host: string;
  maxBodyBytes: number;
  /**
   * Every key POST /webhook accepts: WEBHOOK_SECRET (`current`), then WEBHOOK_SECRET_PREVIOUS in
   * order (`previous_1` …). Empty when WEBHOOK_SECRET is unset.
   */
  webhookKeys: readonly SigningKey[];
  /** Standard Webhooks replay window, either direction. */
  toleranceSeconds: number;
  /** WHATSAPP_APP_SECRET's UTF-8 bytes; null when unset (POST /webhook/whatsapp answers 503). */
  whatsappAppSecret: KeyObject | null;
  /** SHA-256 of WHATSAPP_VERIFY_TOKEN (compared in constant time, never kept in clear); null when unset. */
  whatsappVerifyTokenDigest: Buffer | null;
  whatsappMaxBodyBytes: number;
  /** How long in-flight requests may take to finish after SIGTERM before their connections are closed. */
  shutdownGraceSeconds: number;
  /** READ_TOKEN (only its digest is kept); null: the read routes are open. */
  readToken: ReadToken | null;
  /** Live-tail streams open at once (MAX_STREAMS). */
  maxStreams: number;
}>;

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_DATABASE_URL = 'sqlite:///./data/app.db';
export const DEFAULT_PG_POOL_SIZE = 4;
const MAX_BODY_CEILING = 1024 * 1024 * 1024;
export const DEFAULT_TOLERANCE_SECONDS = 300;
export const DEFAULT_WHATSAPP_MAX_BODY_BYTES = 3 * 1024 * 1024;
/** 8 s of drain plus closing the database fits inside Docker's default 10 s stop timeout (SPEC.md). */
export const DEFAULT_SHUTDOWN_GRACE_SECONDS = 8;

/**
 * Variables that may be given as NAME_FILE instead: the path of a file holding the value, the
 * Docker and Kubernetes convention for mounted secrets (the value then shows in neither
 * `docker inspect` nor /proc/<pid>/environ). Adding a name here is all a new variable needs: the
 * file's text goes through exactly the checks the variable's own value would.
 */
export const FILE_VARIABLES: readonly string[] = ['WEBHOOK_SECRET', 'WEBHOOK_SECRET_PREVIOUS', 'WHATSAPP_APP_SECRET', 'WHATSAPP_VERIFY_TOKEN', 'READ_TOKEN', 'DATABASE_URL'];
/** Secrets are short; the bound turns a wrong path (a log file, a disk image) into a clear problem. */
export const MAX_VALUE_FILE_BYTES = 64 * 1024;

const LEVELS: Readonly<Record<string, LogLevel>> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  WARN: 'warn',
  ERROR: 'error',
};

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Reads a NAME_FILE file once, at start-up; the problem names no path (people do paste the secret there). */
export type ReadValueFile = (path: string) => Parsed<string>;

/** Empty values count as unset: `FOO=` in a compose file usually means "use the default". */
function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

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
function withFileValues(env: Env, readFile: ReadValueFile, problems: string[]): Env {
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

export function parseDatabaseUrl(url: string): Parsed<string> {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url);
  if (scheme === null || url === ':memory:') return { ok: true, value: url };
  const name = scheme[1] ?? '';
  // Only the scheme is echoed: a URL may carry credentials.
  if (name.toLowerCase() !== 'sqlite') {
    return { ok: false, problem: `DATABASE_URL: unsupported scheme "${name}"; use sqlite:///relative/path.db, sqlite:////absolute/path.db, a file path, or a postgres:// (postgresql://) URL` };
  }
  if (!url.slice(scheme[0].length).startsWith('///')) {
    return { ok: false, problem: 'DATABASE_URL: a sqlite URL needs three slashes (sqlite:///relative.db) or four (sqlite:////absolute.db)' };
  }
  const path = url.slice(scheme[0].length + 3);
  if (path === '') return { ok: false, problem: 'DATABASE_URL: the sqlite URL names no file' };
  if (path.includes('?')) return { ok: false, problem: 'DATABASE_URL: query parameters are not supported' };
  return { ok: true, value: path };
}

/**
 * DATABASE_URL as a storage target. postgres:// and postgresql:// URLs are parsed by the
 * PostgreSQL client's parser (its problems never repeat any part of the URL: it holds a password);
 * anything else is a SQLite URL or file path. PGSSLROOTCERT is libpq's variable for the CA file.
 */
export function parseDatabaseTarget(url: string, poolSize: number, sslRootCert: string | undefined): { ok: true; value: DatabaseTarget } | { ok: false; problems: string[] } {
  if (isPostgresUrl(url)) {
    const parsed = parsePostgresUrl(url, { sslRootCert });
    return parsed.ok ? { ok: true, value: Object.freeze({ kind: 'postgres', connection: parsed.config, poolSize }) } : parsed;
  }
  const path = parseDatabaseUrl(url);
  return path.ok ? { ok: true, value: Object.freeze({ kind: 'sqlite', path: path.value }) } : { ok: false, problems: [path.problem] };
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

// Secrets: one small function per variable, each from the raw value (which may later come from a
// file instead of the environment). Empty means unset. Problems never contain the secret.

const WHSEC_RULE = `a ${WHSEC_PREFIX} secret must be canonical base64 of ${WHSEC_MIN_BYTES} to ${WHSEC_MAX_BYTES} bytes`;

function parseWebhookSecret(raw: string | undefined): Parsed<SigningKey | null> {
  if (raw === undefined || raw === '') return { ok: true, value: null };
  const key = signingKey('current', raw);
  return key === null ? { ok: false, problem: `WEBHOOK_SECRET: ${WHSEC_RULE}` } : { ok: true, value: key };
}

function parseWebhookSecretPrevious(raw: string | undefined): Parsed<SigningKey[]> {
  const secrets = (raw ?? '').split(/\s+/).filter((s) => s !== '');
  if (secrets.length > MAX_PREVIOUS_KEYS) {
    return { ok: false, problem: `WEBHOOK_SECRET_PREVIOUS: at most ${MAX_PREVIOUS_KEYS} secrets (whitespace-separated), got ${secrets.length}` };
  }
  const keys: SigningKey[] = [];
  for (const [i, secret] of secrets.entries()) {
    const key = signingKey(KEY_NAMES[i + 1] ?? 'previous_5', secret);
    if (key === null) return { ok: false, problem: `WEBHOOK_SECRET_PREVIOUS: secret ${i + 1}: ${WHSEC_RULE}` };
    keys.push(key);
  }
  return { ok: true, value: keys };
}

function parseWhatsAppAppSecret(raw: string | undefined): KeyObject | null {
  return raw === undefined || raw === '' ? null : createSecretKey(Buffer.from(raw, 'utf8'));
}

function parseWhatsAppVerifyToken(raw: string | undefined): Buffer | null {
  return raw === undefined || raw === '' ? null : createHash('sha256').update(raw, 'utf8').digest();
}

/** PORT and HOST alone, parsed as loadConfig does: the container health check reads nothing else (no secret files). */
export function listenAddress(env: Env): { port: number; host: string } {
  const port = read(env, 'PORT');
  const parsed = port === undefined ? undefined : parseInteger('PORT', port, 0, 65535);
  return { port: parsed?.ok === true ? parsed.value : 8000, host: read(env, 'HOST')?.trim() ?? '0.0.0.0' };
}

export function loadConfig(environment: Env, readFile: ReadValueFile = readValueFile): ConfigResult {
  const problems: string[] = [];
  // From here on every variable, wherever it is read, sees a NAME_FILE's text as NAME's value.
  const env = withFileValues(environment, readFile, problems);
  const take = <T>(parsed: Parsed<T>, fallback: T): T => {
    if (parsed.ok) return parsed.value;
    problems.push(parsed.problem);
    return fallback;
  };

  const secret = env['WEBHOOK_SECRET'];
  const port = read(env, 'PORT');
  const level = read(env, 'LOG_LEVEL');
  const maxBody = read(env, 'MAX_BODY_BYTES');
  const tolerance = read(env, 'WEBHOOK_TOLERANCE_SECONDS');
  const whatsappMaxBody = read(env, 'WHATSAPP_MAX_BODY_BYTES');
  const current = take(parseWebhookSecret(secret), null);
  const previous = take(parseWebhookSecretPrevious(env['WEBHOOK_SECRET_PREVIOUS']), []);
  const grace = read(env, 'SHUTDOWN_GRACE_SECONDS');
  const maxStreams = read(env, 'MAX_STREAMS');
  const poolSize = read(env, 'PG_POOL_SIZE');
  const parsedTarget = parseDatabaseTarget(
    read(env, 'DATABASE_URL') ?? DEFAULT_DATABASE_URL,
    poolSize === undefined ? DEFAULT_PG_POOL_SIZE : take(parseInteger('PG_POOL_SIZE', poolSize, 1, 100), DEFAULT_PG_POOL_SIZE),
    read(env, 'PGSSLROOTCERT')?.trim(),
  );
  if (!parsedTarget.ok) problems.push(...parsedTarget.problems);
  const database: DatabaseTarget = parsedTarget.ok ? parsedTarget.value : { kind: 'sqlite', path: '' };
  const config: Config = Object.freeze({
    webhookSecret: current?.utf8 ?? null,
    database,
    databasePath: database.kind === 'sqlite' ? database.path : '',
    logLevel: level === undefined ? 'info' : take(parseLogLevel(level), 'info'),
    port: port === undefined ? 8000 : take(parseInteger('PORT', port, 0, 65535), 0),
    host: read(env, 'HOST')?.trim() ?? '0.0.0.0',
    maxBodyBytes: maxBody === undefined ? 262144 : take(parseInteger('MAX_BODY_BYTES', maxBody, 1, MAX_BODY_CEILING), 0),
    // Previous keys are only tried beside a current one: without WEBHOOK_SECRET the route is 503.
    webhookKeys: Object.freeze(current === null ? [] : [current, ...previous]),
    toleranceSeconds: tolerance === undefined ? DEFAULT_TOLERANCE_SECONDS : take(parseInteger('WEBHOOK_TOLERANCE_SECONDS', tolerance, 1, 3600), 0),
    whatsappAppSecret: parseWhatsAppAppSecret(env['WHATSAPP_APP_SECRET']),
    whatsappVerifyTokenDigest: parseWhatsAppVerifyToken(env['WHATSAPP_VERIFY_TOKEN']),
    whatsappMaxBodyBytes: whatsappMaxBody === undefined ? DEFAULT_WHATSAPP_MAX_BODY_BYTES : take(parseInteger('WHATSAPP_MAX_BODY_BYTES', whatsappMaxBody, 1, MAX_BODY_CEILING), 0),
    shutdownGraceSeconds: grace === undefined ? DEFAULT_SHUTDOWN_GRACE_SECONDS : take(parseInteger('SHUTDOWN_GRACE_SECONDS', grace, 1, 600), 0),
    readToken: take(parseReadToken(read(env, 'READ_TOKEN')), null),
    maxStreams: maxStreams === undefined ? 100 : take(parseInteger('MAX_STREAMS', maxStreams, 0, 10_000), 0),
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
}
