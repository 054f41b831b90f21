// Starts the real service on port 0 with its own temporary database and a log sink, for tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config, type Env } from '../../src/config.ts';
import { startService, type RunningService, type ServiceOptions } from '../../src/service.ts';
import { sign } from '../../src/webhook/signature.ts';
import { newTestDatabase, sqliteDatabase, testBackend, type TestDatabase } from './test-database.ts';

export const SECRET = 'test-secret';

export type LogLine = Record<string, unknown>;

export type TestService = RunningService & {
  dir: string;
  /** The SQLite file; empty when the service runs on PostgreSQL (TEST_DATABASE=postgres). */
  dbPath: string;
  /** The database the service stores in, for tests that look at the rows or start another service on it. */
  database: TestDatabase;
  config: Config;
  /** Every log line written so far, parsed. */
  logs: LogLine[];
  /** The raw text written to the log sink. */
  rawLog(): string;
  /** Access-log lines (those with a request_id and status). */
  accessLogs(): LogLine[];
  post(body: string | Buffer, headers?: Record<string, string>): Promise<Response>;
  /** POST /webhook with a valid signature for `body`. */
  deliver(body: unknown, headers?: Record<string, string>): Promise<Response>;
  get(pathAndQuery: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
};

export type TestServiceOptions = {
  env?: Env;
  /** Use this SQLite file instead of a fresh database (e.g. a legacy file made by the test). */
  dbPath?: string;
  /** Use this database (another service's, or one from newTestDatabase) instead of a fresh one. */
  database?: TestDatabase;
} & Partial<Pick<ServiceOptions, 'store' | 'busyTimeoutMs' | 'clock' | 'shutdownGraceMs' | 'timeoutMs' | 'maxInFlightWebhooks' | 'whatsappBodyBudgetBytes' | 'streamHeartbeatMs' | 'streamMaxUnreadBytes' | 'bodyGate'>>;

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'webhook-test-'));
}

export function signBody(body: string | Buffer, secret: string = SECRET): string {
  return sign(secret, body);
}

export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const dir = tempDir();
  // A fresh database of the backend under test, unless the test names one.
  const database = options.dbPath !== undefined ? sqliteDatabase(options.dbPath)
    : options.database ?? (testBackend() === 'postgres' && options.store === undefined ? await newTestDatabase({ after: () => {} }) : sqliteDatabase(join(dir, 'app.db')));
  const dbPath = database.path;
  const loaded = loadConfig({ WEBHOOK_SECRET: SECRET, DATABASE_URL: database.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'DEBUG', ...options.env });
  if (!loaded.ok) throw new Error(`bad test config: ${loaded.problems.join('; ')}`);
  const config = loaded.config;
  let raw = '';
  const logs: LogLine[] = [];
  const serviceOptions: ServiceOptions = {
    write: (line) => {
      raw += line;
      logs.push(JSON.parse(line) as LogLine);
    },
  };
  if (options.store !== undefined) serviceOptions.store = options.store;
  if (options.busyTimeoutMs !== undefined) serviceOptions.busyTimeoutMs = options.busyTimeoutMs;
  if (options.clock !== undefined) serviceOptions.clock = options.clock;
  if (options.shutdownGraceMs !== undefined) serviceOptions.shutdownGraceMs = options.shutdownGraceMs;
  if (options.timeoutMs !== undefined) serviceOptions.timeoutMs = options.timeoutMs;
  if (options.maxInFlightWebhooks !== undefined) serviceOptions.maxInFlightWebhooks = options.maxInFlightWebhooks;
  if (options.whatsappBodyBudgetBytes !== undefined) serviceOptions.whatsappBodyBudgetBytes = options.whatsappBodyBudgetBytes;
  if (options.streamHeartbeatMs !== undefined) serviceOptions.streamHeartbeatMs = options.streamHeartbeatMs;
  if (options.streamMaxUnreadBytes !== undefined) serviceOptions.streamMaxUnreadBytes = options.streamMaxUnreadBytes;
  if (options.bodyGate !== undefined) serviceOptions.bodyGate = options.bodyGate;
  const service = await startService(config, serviceOptions);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    service.server.closeAllConnections();
    await service.shutdown('test');
    rmSync(dir, { recursive: true, force: true });
  };
  const post = (body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${service.url}/webhook`, { method: 'POST', body, headers: { 'Content-Type': 'application/json', ...headers } });

  return {
    ...service,
    dir,
    dbPath,
    database,
    config,
    logs,
    rawLog: () => raw,
    accessLogs: () => logs.filter((l) => 'request_id' in l && 'status' in l),
    post,
    deliver: (body, headers = {}) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      return post(text, { 'X-Signature': signBody(text), ...headers });
    },
    get: (pathAndQuery, init) => fetch(`${service.url}${pathAndQuery}`, init),
    stop,
  };
}

let counter = 0;
/** A valid message; fields can be overridden (or removed with undefined). */
export function message(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter += 1;
  return {
    message_id: `m-${process.pid}-${counter}`,
    from: '+919876543210',
    to: '+14155550100',
    ts: '2025-01-15T10:00:00Z',
    text: 'Hello',
    ...overrides,
  };
}

/** The parsed JSON body of a response (tests inspect it freely). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function bodyOf(res: Response): Promise<any> {
  return JSON.parse(await res.text());
}

type AfterHook = { after(fn: () => unknown): void };

/** A service of its own for one test, stopped when the test ends. */
export async function freshService(t: AfterHook, options: TestServiceOptions = {}): Promise<TestService> {
  const svc = await startTestService(options);
  t.after(() => svc.stop());
  return svc;
}

/** Delivers each message in turn, asserting every one is accepted. */
export async function seed(svc: TestService, messages: readonly Record<string, unknown>[]): Promise<void> {
  for (const m of messages) {
    const res = await svc.deliver(m);
    if (res.status !== 200) throw new Error(`seeding ${String(m['message_id'])}: status ${res.status}`);
    await res.body?.cancel();
  }
}
