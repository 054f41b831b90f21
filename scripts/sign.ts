// Signs a body the way a sender of each scheme does, and prints the headers to attach, a curl line
// that sends it, or sends it.
//   WEBHOOK_SECRET=… node scripts/sign.ts body.json                     # the X-Signature hex, as before
//   WEBHOOK_SECRET=… node scripts/sign.ts --scheme standard body.json   # webhook-id/-timestamp/-signature
//   WHATSAPP_APP_SECRET=… node scripts/sign.ts --scheme whatsapp --curl http://127.0.0.1:8000 envelope.json
//   printf '{"message_id":"m1"}' | WEBHOOK_SECRET=… node scripts/sign.ts --scheme hub --send http://127.0.0.1:8000
// The bytes are signed as they are: no trimming, no trailing-newline fix-up, no JSON re-encoding.
import { readFileSync } from 'node:fs';
import { parseFlags, secretFrom, stringFlag, usageExit } from './lib/cli.ts';
import { CLI_SCHEMES, curlLine, inlinable, isCliScheme, SECRET_VARIABLE, signFor, targetUrl } from './lib/schemes.ts';
import { isDeliveryId } from '../src/webhook/schemes/standard.ts';

const USAGE =
  `node scripts/sign.ts [--scheme ${CLI_SCHEMES.join('|')}] [--secret SECRET] [--id ID] [--timestamp UNIX_SECONDS] ` +
  '[--curl URL | --send URL] [FILE | -]   (body from FILE or stdin; key from WEBHOOK_SECRET, or WHATSAPP_APP_SECRET for whatsapp)';

const { flags, positionals } = parseFlags(USAGE, {
  scheme: { type: 'string' },
  secret: { type: 'string' },
  id: { type: 'string' },
  timestamp: { type: 'string' },
  curl: { type: 'string' },
  send: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
}, 1);
if (flags['help'] === true) {
  process.stdout.write(`usage: ${USAGE}\n`);
  process.exit(0);
}
const schemeFlag = stringFlag(flags, 'scheme');
if (schemeFlag !== undefined && !isCliScheme(schemeFlag)) usageExit(USAGE, `--scheme must be one of ${CLI_SCHEMES.join(', ')}, got "${schemeFlag}"`);
const scheme = schemeFlag ?? 'x-signature';
if (flags['curl'] !== undefined && flags['send'] !== undefined) usageExit(USAGE, '--curl and --send exclude each other');
const timestampFlag = stringFlag(flags, 'timestamp');
if (timestampFlag !== undefined && !/^[0-9]{1,12}$/.test(timestampFlag)) usageExit(USAGE, `--timestamp must be Unix seconds (1 to 12 digits), got "${timestampFlag}"`);
if (scheme !== 'standard' && (flags['id'] !== undefined || timestampFlag !== undefined)) usageExit(USAGE, '--id and --timestamp are for --scheme standard');
const idFlag = stringFlag(flags, 'id');
if (idFlag !== undefined && !isDeliveryId(idFlag)) usageExit(USAGE, `--id must be 1 to 256 printable ASCII characters without "." (the service refuses any other webhook-id)`);
const secret = secretFrom(USAGE, flags, SECRET_VARIABLE[scheme]);

const file = positionals[0];
const fromStdin = file === undefined || file === '-';
if (fromStdin && process.stdin.isTTY) usageExit(USAGE, 'no body: pass a FILE or pipe the body on stdin');
let body: Buffer;
try {
  body = readFileSync(fromStdin ? 0 : file);
} catch (err) {
  const code = err instanceof Error && 'code' in err ? String(err.code) : 'error';
  process.stderr.write(`error: cannot read ${fromStdin ? 'stdin' : JSON.stringify(file)} (${code})\n`);
  process.exit(1);
}

const signed = signFor(scheme, secret, body, { ...(idFlag !== undefined && { id: idFlag }), ...(timestampFlag !== undefined && { timestamp: Number(timestampFlag) }) });
if ('error' in signed) usageExit(USAGE, `--secret / ${SECRET_VARIABLE[scheme]}: ${signed.error}`);

const base = stringFlag(flags, 'curl') ?? stringFlag(flags, 'send');
if (base === undefined) {
  // Without --scheme, the bare X-Signature hex (what this script always printed); else header lines.
  const [first] = signed.headers;
  process.stdout.write(schemeFlag === undefined && first !== undefined ? `${first[1]}\n` : signed.headers.map(([n, v]) => `${n}: ${v}\n`).join(''));
  process.exit(0);
}
const url = targetUrl(base, signed.path);
if (url === null) usageExit(USAGE, `the URL must be http(s), got "${base}"`);

if (flags['curl'] !== undefined) {
  if (fromStdin && !inlinable(body)) usageExit(USAGE, 'this body cannot be written inside a shell line (NUL or invalid UTF-8): pass it as a FILE');
  process.stdout.write(`${curlLine(url, signed, body, fromStdin ? null : (file ?? null))}\n`);
  process.exit(0);
}

process.stdout.write(`POST ${url.href}  scheme=${scheme}\n`);
try {
  const headers = Object.fromEntries([['Content-Type', 'application/json'], ...signed.headers]);
  const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  process.stdout.write(`${res.status} ${res.statusText}  x-request-id=${res.headers.get('x-request-id') ?? '-'}\n${text}\n`);
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: request to ${url.origin} failed: ${cause}\n`);
  process.exit(1);
}
