// One JSON object per line, written to a sink that is passed in (stdout in production, an array in
// tests). `ts` and `level` come first so the lines read well with `jq` and `grep`.
import type { LogLevel } from '../config.ts';

export type LogFields = Readonly<Record<string, unknown>>;

export type Logger = {
  readonly level: LogLevel;
  enabled(level: LogLevel): boolean;
  /** A line without `msg`: the per-request access line. */
  line(level: LogLevel, fields: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, err?: unknown, fields?: LogFields): void;
};

export type LoggerOptions = {
  level: LogLevel;
  write: (line: string) => void;
  now: () => Date;
};

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export function describeError(err: unknown): { type: string; message: string; stack?: string } {
  if (err instanceof Error) {
    const out: { type: string; message: string; stack?: string } = { type: err.name, message: err.message };
    if (err.stack !== undefined) out.stack = err.stack;
    return out;
  }
  return { type: typeof err, message: String(err) };
}

export function createLogger(options: LoggerOptions): Logger {
  const threshold = RANK[options.level];
  const enabled = (level: LogLevel): boolean => RANK[level] >= threshold;
  // toISOString costs about a microsecond; lines written in the same millisecond share the string.
  let lastMs = NaN;
  let lastIso = '';
  const stamp = (): string => {
    const now = options.now();
    const ms = now.getTime();
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = now.toISOString();
    }
    return lastIso;
  };
  const line = (level: LogLevel, fields: LogFields): void => {
    if (!enabled(level)) return;
    // The same text as JSON.stringify({ ts, level, ...fields }) without copying the fields into a
    // new object: `ts` and `level` are written first, then the fields' own JSON after its brace.
    if (Object.hasOwn(fields, 'ts') || Object.hasOwn(fields, 'level')) {
      options.write(`${JSON.stringify({ ts: stamp(), level, ...fields })}\n`);
      return;
    }
    const rest = JSON.stringify(fields);
    options.write(`{"ts":"${stamp()}","level":"${level}"${rest.length === 2 ? '}' : `,${rest.slice(1)}`}\n`);
  };
  return {
    level: options.level,
    enabled,
    line,
    debug: (msg, fields) => line('debug', { msg, ...fields }),
    info: (msg, fields) => line('info', { msg, ...fields }),
    warn: (msg, fields) => line('warn', { msg, ...fields }),
    error: (msg, err, fields) => line('error', err === undefined ? { msg, ...fields } : { msg, ...fields, err: describeError(err) }),
  };
}
