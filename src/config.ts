// The only reader of the environment. Parsed once at start-up; every problem is reported, not just
// the first, so an operator fixes a broken deployment in one round trip. Its helpers are in config/:
// NAME_FILE values (value-files.ts) and the secrets' parsers (secrets.ts).

import type { KeyObject } from 'node:crypto';
import type { SigningKey } from './webhook/schemes/keys.ts';
import { parseWebhookSecret, parseWebhookSecretPrevious, parseWhatsAppAppSecret, parseWhatsAppVerifyToken } from './config/secrets.ts';
import { readValueFile, withFileValues, type ReadValueFile } from './config/value-files.ts';
import { listenAddress, parseInteger, read, type Env, type Parsed } from './config/values.ts';
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

export { listenAddress, type Env, type Parsed } from './config/values.ts';
export { FILE_VARIABLES, MAX_VALUE_FILE_BYTES, readValueFile, type ReadValueFile } from './config/value-files.ts';


export const DEFAULT_DATABASE_URL = 'sqlite:///./data/app.db';
export const DEFAULT_PG_POOL_SIZE = 4;
const MAX_BODY_CEILING = 1024 * 1024 * 1024;
export const DEFAULT_TOLERANCE_SECONDS = 300;
export const DEFAULT_WHATSAPP_MAX_BODY_BYTES = 3 * 1024 * 1024;
/** 8 s of drain plus closing the database fits inside Docker's default 10 s stop timeout (SPEC.md). */
export const DEFAULT_SHUTDOWN_GRACE_SECONDS = 8;

const LEVELS: Readonly<Record<string, LogLevel>> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  WARN: 'warn',
  ERROR: 'error',
};

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

function parseLogLevel(raw: string): Parsed<LogLevel> {
  const level = LEVELS[raw.trim().toUpperCase()];
  return level === undefined
    ? { ok: false, problem: 'LOG_LEVEL: must be one of DEBUG, INFO, WARNING (or WARN), ERROR' }
    : { ok: true, value: level };
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
