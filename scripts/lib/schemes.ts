// How each kind of sender signs a body (SPEC.md "Senders' signature schemes" and "WhatsApp Cloud
// API"), for the developer scripts: the headers to attach, the route they go to, and a curl line.
import { createHmac, randomUUID } from 'node:crypto';
import { standardKeyBytes } from '../../src/webhook/schemes/keys.ts';

export const CLI_SCHEMES = ['x-signature', 'standard', 'hub', 'whatsapp'] as const;
export type CliScheme = (typeof CLI_SCHEMES)[number];

export function isCliScheme(value: string): value is CliScheme {
  return CLI_SCHEMES.some((s) => s === value);
}

/** The variable the scheme's key is read from when --secret is not given. */
export const SECRET_VARIABLE: Readonly<Record<CliScheme, string>> = {
  'x-signature': 'WEBHOOK_SECRET',
  standard: 'WEBHOOK_SECRET',
  hub: 'WEBHOOK_SECRET',
  whatsapp: 'WHATSAPP_APP_SECRET',
};

export type Signed = { path: '/webhook' | '/webhook/whatsapp'; headers: [string, string][] };

export type StandardOptions = { id?: string; timestamp?: number };

const hmac = (key: Buffer | string, ...parts: (Buffer | string)[]): Buffer => {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
};

/** The headers a sender of `scheme` attaches to exactly these bytes; an error for a malformed whsec_ secret. */
export function signFor(scheme: CliScheme, secret: string, body: Buffer, options: StandardOptions = {}): Signed | { error: string } {
  switch (scheme) {
    case 'x-signature':
      return { path: '/webhook', headers: [['X-Signature', hmac(secret, body).toString('hex')]] };
    case 'hub':
      return { path: '/webhook', headers: [['X-Hub-Signature-256', `sha256=${hmac(secret, body).toString('hex')}`]] };
    case 'whatsapp':
      return { path: '/webhook/whatsapp', headers: [['X-Hub-Signature-256', `sha256=${hmac(secret, body).toString('hex')}`]] };
    case 'standard': {
      const key = standardKeyBytes(secret);
      if (key === null) return { error: 'a whsec_ secret must be canonical base64 of 24 to 64 bytes' };
      const id = options.id ?? `msg_${randomUUID().replace(/-/g, '')}`;
      const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
      const signature = hmac(key, `${id}.${timestamp}.`, body).toString('base64');
      return { path: '/webhook', headers: [['webhook-id', id], ['webhook-timestamp', timestamp], ['webhook-signature', `v1,${signature}`]] };
    }
  }
}

/** A bare origin gets the scheme's route; a URL with a path (a proxy prefix, say) is used as given. */
export function targetUrl(base: string, path: Signed['path']): URL | null {
  try {
    const url = new URL(base);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.pathname === '/' ? new URL(path, url) : url;
  } catch {
    return null;
  }
}

/** POSIX shell single quotes: everything literal, a quote written as '\''. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A curl command that sends the body as signed. `file` names the body's file (else it is inlined). */
export function curlLine(url: URL, signed: Signed, body: Buffer, file: string | null): string {
  const headers = [['Content-Type', 'application/json'] as const, ...signed.headers].map(([name, value]) => `-H ${shellQuote(`${name}: ${value}`)}`);
  const data = file !== null ? shellQuote(`@${file}`) : shellQuote(body.toString('utf8'));
  return `curl -sS -i -X POST ${shellQuote(url.href)} ${headers.join(' ')} --data-binary ${data}`;
}

/** A body can be inlined in a shell line when it is UTF-8 without NUL (and so round-trips exactly). */
export function inlinable(body: Buffer): boolean {
  const text = body.toString('utf8');
  return !text.includes('\u0000') && Buffer.from(text, 'utf8').equals(body);
}
