// Prints the X-Signature a sender would attach: hex HMAC-SHA256 of the exact body bytes.
//   WEBHOOK_SECRET=… node scripts/sign.ts body.json
//   printf '{"message_id":"m1"}' | WEBHOOK_SECRET=… node scripts/sign.ts
// The bytes are signed as they are: no trimming, no trailing-newline fix-up, no JSON re-encoding.
import { readFileSync } from 'node:fs';
import { sign } from '../src/webhook/signature.ts';
import { parseFlags, secretFrom, usageExit } from './lib/cli.ts';

const USAGE = 'node scripts/sign.ts [--secret SECRET] [FILE | -]   (body from FILE or stdin; key from WEBHOOK_SECRET)';

const { flags, positionals } = parseFlags(USAGE, { secret: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, 1);
if (flags['help'] === true) {
  process.stdout.write(`usage: ${USAGE}\n`);
  process.exit(0);
}
const secret = secretFrom(USAGE, flags);
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
process.stdout.write(`${sign(secret, body)}\n`);
