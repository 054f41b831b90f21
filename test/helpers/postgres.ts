// A throwaway PostgreSQL cluster for one test file: initdb into a temp folder (as the `postgres`
// user when we are root, as CI is), a free port on loopback, scram-sha-256 in pg_hba.conf, a
// password, fsync on, and optionally TLS with a CA and a server certificate made here with
// openssl. Stopped (and its folder removed) when the test file ends, or when the process exits.
// Outside CI a machine without PostgreSQL skips the tests that need it; under CI it fails them,
// because .ci/run installs Debian's postgresql package.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { after, before } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './tools.ts';

type Skippable = { skip(message?: string): void };

export const PASSWORD = 'pencil with spaces & ümlauts';
const CLEAR_PASSWORD = 'clear-text-pw';
const MD5_PASSWORD = 'md5-pw';

export type Certificates = { dir: string; ca: string; otherCa: string };

export type Cluster = {
  host: string;
  port: number;
  /** The superuser's URL for a database (default "postgres"), with extra query text. */
  url(database?: string, query?: string, user?: string, password?: string): string;
  /** A new empty database for one test. */
  createDatabase(): Promise<string>;
  /** Runs SQL with psql over the cluster's Unix socket (independent of the client under test). */
  psql(sql: string, database?: string): string;
  /** pg_ctl restart -m fast: every connection is terminated, the server comes back. */
  restart(): Promise<void>;
  stop(): void;
  start(): Promise<void>;
  certificates: Certificates | null;
  users: { clear: { name: string; password: string }; md5: { name: string; password: string } };
};

const inCi = (): boolean => {
  const ci = process.env['CI'];
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
};

/** The bin folder of the newest installed PostgreSQL, or null. */
export function findBinaries(): string | null {
  // PG_BINDIR, when set, is the only place looked at (also a way to see the tests skip).
  const override = process.env['PG_BINDIR'];
  if (override !== undefined && override !== '') return existsSync(join(override, 'initdb')) ? override : null;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const path = which.stdout.trim();
  return which.status === 0 && path !== '' ? join(path, '..') : null;
}

const haveOpenssl = (): boolean => spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

const missing = (options: ClusterOptions): string | null => {
  if (findBinaries() === null) return 'PostgreSQL is not installed (Debian package "postgresql"; .ci/run installs it)';
  if (options.tls === true && !haveOpenssl()) return 'openssl is not installed (Debian package "openssl"; .ci/run installs it)';
  return null;
};

/** True when PostgreSQL (and openssl, for TLS) is installed; otherwise skips the test, or fails it under CI. */
export function havePostgres(t: Skippable, options: ClusterOptions = {}): boolean {
  const why = missing(options);
  if (why === null) return true;
  if (inCi()) assert.fail(`${why}, and CI must run these tests`);
  t.skip(why);
  return false;
}

type Owner = { uid: number; gid: number } | null;

function owner(): Owner {
  if (process.getuid?.() !== 0) return null;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

function makeCertificates(dir: string, as: Owner): Certificates {
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.crt',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=other-ca', '-keyout', 'other.key', '-out', 'other.crt',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
  // Only the name "localhost": connecting to 127.0.0.1 with verify-full must fail the host check.
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'server.ext', '-out', 'server.crt');
  chmodSync(join(dir, 'server.key'), 0o600);
  if (as !== null) chownSync(join(dir, 'server.key'), as.uid, as.gid);
  return { dir, ca: join(dir, 'ca.crt'), otherCa: join(dir, 'other.crt') };
}

export type ClusterOptions = { tls?: boolean };

type After = { after(fn: () => unknown): void };

/** Starts a cluster for the test file; `t` is the suite or test that owns it (stopped in its after hook). */
export async function startCluster(t: After, options: ClusterOptions = {}): Promise<Cluster> {
  const bin = findBinaries();
  assert.ok(bin !== null, 'PostgreSQL binaries not found');
  const as = owner();
  const root = mkdtempSync(join(tmpdir(), 'pg-test-'));
  const data = join(root, 'data');
  const run = (cmd: string, args: string[], extra: SpawnOptions = {}): string => {
    const result = spawnSync(join(bin, cmd), args, { ...extra, encoding: 'utf8', timeout: 120_000, ...(as === null ? {} : { uid: as.uid, gid: as.gid }) });
    if (result.status !== 0) throw new Error(`${cmd} failed: ${result.stderr || result.stdout}`);
    return result.stdout;
  };
  if (as !== null) chownSync(root, as.uid, as.gid);
  const pwfile = join(root, 'pw');
  writeFileSync(pwfile, `${PASSWORD}\n`);
  if (as !== null) chownSync(pwfile, as.uid, as.gid);
  run('initdb', ['-D', data, '-U', 'postgres', '--pwfile', pwfile, '-A', 'scram-sha-256', '--auth-local=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-instructions']);
  const certificates = options.tls === true ? makeCertificates(root, as) : null;
  const port = await freePort();
  const conf = [
    `port = ${port}`,
    "listen_addresses = '127.0.0.1,::1'",
    `unix_socket_directories = '${root}'`,
    'fsync = on',
    'synchronous_commit = on',
    "password_encryption = 'scram-sha-256'",
    'shared_buffers = 16MB',
    'max_connections = 150',
    "log_min_messages = 'warning'",
    ...(certificates === null ? [] : ['ssl = on', `ssl_cert_file = '${join(root, 'server.crt')}'`, `ssl_key_file = '${join(root, 'server.key')}'`]),
  ];
  writeFileSync(join(data, 'postgresql.auto.conf'), `${conf.join('\n')}\n`);
  writeFileSync(join(data, 'pg_hba.conf'), [
    'local all all trust',
    'host all clear_user 127.0.0.1/32 password',
    'host all md5_user 127.0.0.1/32 md5',
    'host all all 127.0.0.1/32 scram-sha-256',
    'host all all ::1/128 scram-sha-256',
    '',
  ].join('\n'));
  const runAsync = (cmd: string, args: string[]): Promise<void> =>
    new Promise((resolve, reject) => {
      const child = spawn(join(bin, cmd), args, { stdio: ['ignore', 'ignore', 'pipe'], ...(as === null ? {} : { uid: as.uid, gid: as.gid }) });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} failed: ${stderr}`))));
    });
  const log = join(root, 'server.log');
  const pgctl = (...args: string[]): string => run('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', ...args]);
  const psql = (sql: string, database = 'postgres'): string =>
    run('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', root, '-p', String(port), '-U', 'postgres', '-d', database, '-c', sql]);
  let running = false;
  const stop = (): void => {
    if (!running) return;
    running = false;
    spawnSync(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], { stdio: 'ignore', ...(as === null ? {} : { uid: as.uid, gid: as.gid }) });
  };
  const cleanup = (): void => {
    stop();
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  t.after(() => {
    process.removeListener('exit', cleanup);
    cleanup();
  });
  pgctl('start');
  running = true;
  psql(`SET password_encryption = 'scram-sha-256'; CREATE ROLE clear_user LOGIN PASSWORD '${CLEAR_PASSWORD}';`);
  psql(`SET password_encryption = 'md5'; CREATE ROLE md5_user LOGIN PASSWORD '${MD5_PASSWORD}';`);
  let databases = 0;
  return {
    host: '127.0.0.1',
    port,
    url: (database = 'postgres', query = '', user = 'postgres', password = PASSWORD) =>
      `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}${query === '' ? '' : `?${query}`}`,
    createDatabase: async () => {
      const name = `t_${process.pid}_${++databases}`;
      psql(`CREATE DATABASE ${name}`);
      return name;
    },
    psql,
    // Asynchronous, so the client under test keeps running while the server goes away and back.
    restart: () => runAsync('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', '-m', 'fast', 'restart']),
    stop: () => {
      stop();
    },
    start: async () => {
      await runAsync('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', 'start']);
      running = true;
    },
    certificates,
    users: { clear: { name: 'clear_user', password: CLEAR_PASSWORD }, md5: { name: 'md5_user', password: MD5_PASSWORD } },
  };
}

/**
 * One cluster for the whole test file: started before its first test (when PostgreSQL is
 * installed), stopped after its last. Tests still call havePostgres(t) to skip or fail.
 */
export function useCluster(options: ClusterOptions = {}): () => Cluster {
  let cluster: Cluster | undefined;
  const cleanups: (() => unknown)[] = [];
  before(async () => {
    if (missing(options) === null) cluster = await startCluster({ after: (fn) => cleanups.push(fn) }, options);
  });
  after(() => {
    for (const fn of cleanups) fn();
  });
  return () => {
    assert.ok(cluster !== undefined, 'the cluster did not start');
    return cluster;
  };
}
