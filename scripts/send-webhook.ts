// Sends one signed delivery to a running service and prints the status and the response body.
//   WEBHOOK_SECRET=… node scripts/send-webhook.ts --text hi
// Defaults: a fresh message_id, ts = now; repeat --message-id to see duplicate handling.
// The secret and the signature are never printed.
import { randomUUID } from 'node:crypto';
import { parseFlags, secretFrom, stringFlag, usageExit } from './lib/cli.ts';
import { isoNow, signedBody, type OutgoingMessage } from './lib/message.ts';

const USAGE =
  'node scripts/send-webhook.ts [--url http://127.0.0.1:8000] [--message-id ID] [--from +E164] [--to +E164] ' +
  '[--text TEXT | --no-text] [--ts YYYY-MM-DDTHH:MM:SSZ] [--request-id ID] [--secret S]   (key from WEBHOOK_SECRET)';

const { flags } = parseFlags(USAGE, {
  url: { type: 'string' },
  'message-id': { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  text: { type: 'string' },
  'no-text': { type: 'boolean' },
  ts: { type: 'string' },
  'request-id': { type: 'string' },
  secret: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
}, 0);
if (flags['help'] === true) {
  process.stdout.write(`usage: ${USAGE}\n`);
  process.exit(0);
}
if (flags['no-text'] === true && flags['text'] !== undefined) usageExit(USAGE, '--text and --no-text exclude each other');
const secret = secretFrom(USAGE, flags);

let target: URL;
try {
  const base = new URL(stringFlag(flags, 'url') ?? 'http://127.0.0.1:8000');
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('not http');
  // A bare origin gets /webhook; an explicit path (a proxy prefix, say) is used as given.
  target = base.pathname === '/' ? new URL('/webhook', base) : base;
} catch {
  usageExit(USAGE, `--url must be an http(s) URL, got "${stringFlag(flags, 'url')}"`);
}

// Values are sent as given (no local validation), so the script can also probe the 422 paths.
const message: OutgoingMessage = {
  message_id: stringFlag(flags, 'message-id') ?? `cli-${randomUUID()}`,
  from: stringFlag(flags, 'from') ?? '+15550001111',
  to: stringFlag(flags, 'to') ?? '+15550002222',
  ts: stringFlag(flags, 'ts') ?? isoNow(),
  text: flags['no-text'] === true ? null : (stringFlag(flags, 'text') ?? 'hello from send-webhook'),
};
const { body, signature } = signedBody(secret, message);
const headers: Record<string, string> = { 'Content-Type': 'application/json', 'X-Signature': signature };
const requestId = stringFlag(flags, 'request-id');
if (requestId !== undefined) headers['X-Request-ID'] = requestId;

process.stdout.write(`POST ${target.href}  message_id=${message.message_id}\n`);
try {
  const res = await fetch(target, { method: 'POST', headers, body, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  process.stdout.write(`${res.status} ${res.statusText}  x-request-id=${res.headers.get('x-request-id') ?? '-'}\n${text}\n`);
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: request to ${target.origin} failed: ${cause}\n`);
  process.exit(1);
}
