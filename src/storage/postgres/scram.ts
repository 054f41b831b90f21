// SCRAM-SHA-256 client (RFC 5802, RFC 7677) without channel binding, as PostgreSQL speaks it
// (https://www.postgresql.org/docs/current/sasl-authentication.html). The server must prove it
// knows the verifier: its signature is checked in constant time, and a connection that reaches
// AuthenticationOk without that proof is refused by the caller (startup.ts).
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { saslprep } from './saslprep.ts';

export const MECHANISM = 'SCRAM-SHA-256';
/** "n,,": no channel binding, no authzid. */
const GS2_HEADER = 'n,,';
/**
 * Iterations beyond this are refused: a hostile server could otherwise make every connection burn
 * seconds of CPU. PostgreSQL's default is 4096 (scram_iterations); node-postgres caps at 100000.
 */
export const MAX_ITERATIONS = 1_000_000;

export type ClientFirst = { nonce: string; bare: string; message: string };

export type ClientFinal = { message: string; serverSignature: Buffer };

export type Step<T> = { ok: true; value: T } | { ok: false; problem: string };

/** RFC 5802 saslname: "," and "=" are escaped. PostgreSQL ignores it and uses the startup user. */
const saslname = (user: string): string => user.replaceAll('=', '=3D').replaceAll(',', '=2C');

export function clientFirst(user = '', nonce: string = randomBytes(18).toString('base64')): ClientFirst {
  const bare = `n=${saslname(user)},r=${nonce}`;
  return { nonce, bare, message: `${GS2_HEADER}${bare}` };
}

function attributes(message: string): Map<string, string> | null {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    if (!/^[A-Za-z]=/.test(part)) return null;
    const key = part[0] ?? '';
    if (!out.has(key)) out.set(key, part.slice(2));
  }
  return out;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// RFC 5802 "printable": %x21-2B / %x2D-7E (no comma).
const PRINTABLE = /^[\x21-\x2B\x2D-\x7E]+$/;

const derive = (password: string, salt: Buffer, iterations: number): Promise<Buffer> =>
  new Promise((resolve, reject) => pbkdf2(password, salt, iterations, 32, 'sha256', (error, key) => (error === null ? resolve(key) : reject(error))));

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();

/** Answers the server-first-message with the client-final-message and the signature to expect. */
export async function clientFinal(password: string, first: ClientFirst, serverFirst: string): Promise<Step<ClientFinal>> {
  const attrs = attributes(serverFirst);
  if (attrs === null) return { ok: false, problem: 'malformed server-first-message' };
  // RFC 5802 5.1: "m" is reserved for future extensions that a client must not ignore.
  if (attrs.has('m')) return { ok: false, problem: 'server-first-message demands an unsupported extension' };
  const nonce = attrs.get('r') ?? '';
  const salt = attrs.get('s') ?? '';
  const iterationText = attrs.get('i') ?? '';
  if (!PRINTABLE.test(nonce)) return { ok: false, problem: 'server nonce missing or not printable' };
  // The server's nonce must extend ours, or this answer belongs to another exchange (a replay).
  if (!nonce.startsWith(first.nonce) || nonce.length === first.nonce.length) {
    return { ok: false, problem: 'server nonce does not extend the client nonce' };
  }
  if (salt === '' || !BASE64.test(salt)) return { ok: false, problem: 'salt missing or not base64' };
  if (!/^[1-9][0-9]{0,9}$/.test(iterationText)) return { ok: false, problem: 'iteration count missing or malformed' };
  const iterations = Number(iterationText);
  if (iterations > MAX_ITERATIONS) return { ok: false, problem: `iteration count ${iterations} exceeds ${MAX_ITERATIONS}` };

  const salted = await derive(saslprep(password), Buffer.from(salt, 'base64'), iterations);
  const clientKey = hmac(salted, 'Client Key');
  const storedKey = createHash('sha256').update(clientKey).digest();
  const withoutProof = `c=${Buffer.from(GS2_HEADER).toString('base64')},r=${nonce}`;
  const authMessage = `${first.bare},${serverFirst},${withoutProof}`;
  const signature = hmac(storedKey, authMessage);
  const proof = Buffer.alloc(clientKey.length);
  for (let i = 0; i < proof.length; i++) proof[i] = (clientKey[i] ?? 0) ^ (signature[i] ?? 0);
  const serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
  return { ok: true, value: { message: `${withoutProof},p=${proof.toString('base64')}`, serverSignature } };
}

/** Checks the server-final-message: "v=<signature>" or "e=<error>". */
export function verifyServerFinal(serverFinal: string, expected: Buffer): Step<true> {
  const attrs = attributes(serverFinal);
  if (attrs === null) return { ok: false, problem: 'malformed server-final-message' };
  const error = attrs.get('e');
  if (error !== undefined) return { ok: false, problem: `server reported ${JSON.stringify(error.slice(0, 64))}` };
  const v = attrs.get('v') ?? '';
  if (v === '' || !BASE64.test(v)) return { ok: false, problem: 'server signature missing or not base64' };
  const got = Buffer.from(v, 'base64');
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
    return { ok: false, problem: 'the server signature does not match: the server does not know this password' };
  }
  return { ok: true, value: true };
}
