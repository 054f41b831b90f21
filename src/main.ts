// Entry point: configuration, start, signals. Everything else is assembled in service.ts.
import { loadConfig } from './config.ts';
import { createLineBuffer } from './log/line-buffer.ts';
import { describeError } from './log/logger.ts';
import { startService } from './service.ts';
import { openHint } from './storage/open.ts';

const out = createLineBuffer((chunk) => void process.stdout.write(chunk));
const exit = (code: number): never => {
  out.flush();
  return process.exit(code);
};
const fatal = (msg: string, err?: unknown, hint?: string): void =>
  out.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'error', msg, ...(hint !== undefined && { hint }), ...(err !== undefined && { err: describeError(err) }) })}\n`);

const loaded = loadConfig(process.env);
if (!loaded.ok) {
  // One line per problem, no stack trace; exit code 2 marks a configuration error.
  for (const problem of loaded.problems) {
    process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'error', msg: `invalid configuration: ${problem}` })}\n`);
  }
  process.exit(2);
}

// A closed log pipe must not take the service down with it.
process.stdout.on('error', () => {});

process.on('uncaughtException', (err) => {
  fatal('uncaught exception', err);
  exit(1);
});
process.on('unhandledRejection', (err) => {
  fatal('unhandled rejection', err);
  exit(1);
});

try {
  const service = await startService(loaded.config, { write: out.write });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      void service.shutdown(signal).then(() => exit(0));
    });
  }
} catch (err) {
  fatal('could not start', err, openHint(loaded.config.database));
  exit(1);
}
