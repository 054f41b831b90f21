// postgres:// and postgresql:// connection URLs, parsed by hand rather than with WHATWG URL (which
// silently drops tabs and newlines anywhere in the input and leaves non-special hosts encoded).
// The grammar is libpq's: https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS
// Problems never repeat any part of the input: a URL carries a password.
import { isIP } from 'node:net';
import { Secret } from './secret.ts';

/**
 * `prefer` (also what an absent sslmode means, as in libpq): TLS when the server offers it, without
 * checking its certificate, else plaintext. `require`: TLS or no connection, certificate unchecked.
 * `verify-full`: TLS, the certificate chain checked against the system CAs (or sslrootcert /
 * PGSSLROOTCERT) and its name against the host.
 */
export type SslMode = 'disable' | 'prefer' | 'require' | 'verify-full';

export type PgConnectionConfig = Readonly<{
  /** A host name or an IP address (IPv6 without brackets). */
  host: string;
  port: number;
  user: string;
  password: Secret | null;
  database: string;
  sslmode: SslMode;
  /** A PEM file of CA certificates that replaces the system CAs for verify-full; null: system CAs. */
  sslRootCert: string | null;
  applicationName: string;
  connectTimeoutMs: number;
}>;

export type UrlDefaults = Readonly<{
  /** PGSSLROOTCERT, passed in by the one reader of the environment; the URL's sslrootcert wins. */
  sslRootCert?: string | undefined;
  applicationName?: string;
}>;

export type ParsedUrl = { ok: true; config: PgConnectionConfig } | { ok: false; problems: string[] };

const SSL_MODES: readonly SslMode[] = ['disable', 'prefer', 'require', 'verify-full'];
const PARAMETERS = new Set(['sslmode', 'sslrootcert', 'application_name', 'connect_timeout']);
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

const decode = (text: string): string | null => {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
};

/** True when the text is meant as a PostgreSQL URL (so a backend can be chosen before parsing). */
export const isPostgresUrl = (text: string): boolean => /^postgres(ql)?:\/\//i.test(text);

export function parsePostgresUrl(text: string, defaults: UrlDefaults = {}): ParsedUrl {
  const problems: string[] = [];
  const scheme = /^postgres(ql)?:\/\//i.exec(text);
  if (scheme === null) return { ok: false, problems: ['DATABASE_URL: must start with postgres:// or postgresql://'] };
  if (/[\s\u0000-\u001f\u007f]/.test(text)) problems.push('DATABASE_URL: must not contain spaces or control characters (percent-encode them)');
  let rest = text.slice(scheme[0].length);
  const hash = rest.indexOf('#');
  if (hash !== -1) {
    problems.push('DATABASE_URL: a fragment (#…) is not allowed; percent-encode "#" in a password as %23');
    rest = rest.slice(0, hash);
  }
  const question = rest.indexOf('?');
  const query = question === -1 ? '' : rest.slice(question + 1);
  if (question !== -1) rest = rest.slice(0, question);
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash + 1);

  // The last "@": a host never contains one, a carelessly written password might.
  const at = authority.lastIndexOf('@');
  const userinfo = at === -1 ? null : authority.slice(0, at);
  const hostport = at === -1 ? authority : authority.slice(at + 1);

  let user = '';
  let password: Secret | null = null;
  if (userinfo === null || userinfo === '') {
    problems.push('DATABASE_URL: names no user (postgres://user:password@host/db)');
  } else {
    const colon = userinfo.indexOf(':');
    const rawUser = colon === -1 ? userinfo : userinfo.slice(0, colon);
    const decodedUser = decode(rawUser);
    if (decodedUser === null) problems.push('DATABASE_URL: the user name has a malformed percent-escape');
    else if (decodedUser === '') problems.push('DATABASE_URL: names no user (postgres://user:password@host/db)');
    else user = decodedUser;
    if (colon !== -1) {
      const decodedPassword = decode(userinfo.slice(colon + 1));
      if (decodedPassword === null) problems.push('DATABASE_URL: the password has a malformed percent-escape');
      else if (decodedPassword !== '') password = new Secret(decodedPassword);
    }
  }
  if (user.includes('\0')) problems.push('DATABASE_URL: the user name must not contain NUL');
  if (password?.reveal().includes('\0')) problems.push('DATABASE_URL: the password must not contain NUL');

  const { host, port } = parseHostPort(hostport, problems);

  const database = decode(path);
  if (database === null) problems.push('DATABASE_URL: the database name has a malformed percent-escape');
  else if (database.includes('\0')) problems.push('DATABASE_URL: the database name must not contain NUL');

  const params = parseQuery(query, problems);
  let sslmode: SslMode = 'prefer';
  const rawMode = params.get('sslmode');
  if (rawMode !== undefined) {
    const mode = SSL_MODES.find((m) => m === rawMode);
    if (mode === undefined) problems.push(`DATABASE_URL: sslmode must be one of ${SSL_MODES.join(', ')}`);
    else sslmode = mode;
  }
  let connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS;
  const rawTimeout = params.get('connect_timeout');
  if (rawTimeout !== undefined) {
    const seconds = /^[0-9]{1,4}$/.test(rawTimeout) ? Number(rawTimeout) : NaN;
    if (!(seconds >= 1 && seconds <= 3600)) problems.push('DATABASE_URL: connect_timeout must be whole seconds from 1 to 3600');
    else connectTimeoutMs = seconds * 1000;
  }
  const rootCert = params.get('sslrootcert') ?? defaults.sslRootCert;
  const sslRootCert = rootCert === undefined || rootCert === '' ? null : rootCert;
  if (sslRootCert !== null && sslmode !== 'verify-full') {
    problems.push('DATABASE_URL: sslrootcert (or PGSSLROOTCERT) is only used with sslmode=verify-full');
  }
  const applicationName = params.get('application_name') ?? defaults.applicationName ?? 'webhook-api';
  if (Buffer.byteLength(applicationName) > 63) problems.push('DATABASE_URL: application_name must be at most 63 bytes');

  if (problems.length > 0) return { ok: false, problems };
  const config: PgConnectionConfig = Object.freeze({
    host,
    port,
    user,
    password,
    database: database === null || database === '' ? user : database,
    sslmode,
    sslRootCert,
    applicationName,
    connectTimeoutMs,
  });
  return { ok: true, config };
}

function parseHostPort(hostport: string, problems: string[]): { host: string; port: number } {
  let host: string;
  let portText: string | null = null;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    host = close === -1 ? '' : hostport.slice(1, close);
    const after = close === -1 ? '' : hostport.slice(close + 1);
    if (close === -1 || isIP(host) !== 6) problems.push('DATABASE_URL: a bracketed host must be an IPv6 address ([::1])');
    if (after.startsWith(':')) portText = after.slice(1);
    else if (after !== '') problems.push('DATABASE_URL: unexpected text after the IPv6 address');
  } else {
    const colon = hostport.lastIndexOf(':');
    if (colon !== -1 && hostport.indexOf(':') !== colon) {
      problems.push('DATABASE_URL: an IPv6 host must be written in brackets ([::1]:5432)');
    }
    host = colon === -1 ? hostport : hostport.slice(0, colon);
    if (colon !== -1) portText = hostport.slice(colon + 1);
    const decoded = decode(host);
    if (decoded === null) problems.push('DATABASE_URL: the host has a malformed percent-escape');
    host = decoded ?? '';
  }
  if (host === '') problems.push('DATABASE_URL: names no host (postgres://user:password@host/db)');
  else if (host.includes(',')) problems.push('DATABASE_URL: only one host is supported');
  else if (host.startsWith('/')) problems.push('DATABASE_URL: Unix-domain sockets are not supported; name a TCP host');
  else if (isIP(host) === 0 && !/^[A-Za-z0-9._-]+$/.test(host)) problems.push('DATABASE_URL: the host name has characters a host name cannot have');
  let port = 5432;
  if (portText !== null) {
    const value = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(value >= 1 && value <= 65535)) problems.push('DATABASE_URL: the port must be a number from 1 to 65535');
    else port = value;
  }
  return { host, port };
}

function parseQuery(query: string, problems: string[]): Map<string, string> {
  const params = new Map<string, string>();
  if (query === '') return params;
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? null : decode(pair.slice(eq + 1));
    // A key is a fixed word, so naming an unknown one leaks nothing; a value is never echoed.
    if (key === null || !/^[A-Za-z0-9_]{1,40}$/.test(key)) {
      problems.push('DATABASE_URL: a query parameter name is malformed');
    } else if (!PARAMETERS.has(key)) {
      problems.push(`DATABASE_URL: unknown parameter "${key}" (supported: ${[...PARAMETERS].join(', ')})`);
    } else if (value === null) {
      problems.push(`DATABASE_URL: parameter "${key}" needs a value (${key}=…)`);
    } else if (params.has(key)) {
      problems.push(`DATABASE_URL: parameter "${key}" is given twice`);
    } else {
      params.set(key, value);
    }
  }
  return params;
}
