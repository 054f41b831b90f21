// POST /webhook/whatsapp, in SPEC.md's order: body limit (WHATSAPP_MAX_BODY_BYTES), the app
// secret, X-Hub-Signature-256 over the raw bytes, the envelope's shape, then every mappable message
// stored in one transaction. A message that cannot be mapped or validated is skipped, logged (wamid
// and reason, never its text) and counted, and the answer is still 200: Meta retries any non-200
// for days, and one bad message must not block the good ones. A storage failure is a 503 for the
// whole POST; Meta's retry then stores what is missing (every insert is idempotent).
// As on POST /webhook, a body still arriving is read through the body gate (http/body-gate.ts), so
// unsigned uploads cannot crowd out signed deliveries, and a request whose signature header no body
// could match is refused before its body is read.
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config.ts';
import type { BodyGate } from '../http/body-gate.ts';
import { readBody } from '../http/body.ts';
import { failure, invalid, json, withLog, type Reply } from '../http/reply.ts';
import type { BurstLog } from '../log/burst.ts';
import type { LogFields, Logger } from '../log/logger.ts';
import { WHATSAPP_STATUSES, type ServiceMetrics } from '../metrics/service-metrics.ts';
import type { Store } from '../storage/store.ts';
import { checkHubSignature } from '../webhook/schemes/hub.ts';
import { bytesToReserve, type ByteBudget } from './budget.ts';
import { mapEnvelope, type Envelope } from './envelope.ts';

export type WhatsAppDeps = {
  config: Pick<Config, 'whatsappAppSecret' | 'whatsappMaxBodyBytes'>;
  store: Pick<Store, 'insertMany'>;
  metrics: Pick<ServiceMetrics, 'whatsappMessages' | 'whatsappStatuses' | 'storageErrors'>;
  logger: Logger;
  whatsappBodies: ByteBudget;
  bodyGate: BodyGate;
  /** Storage failures are logged once per burst (log/burst.ts). */
  storageFaults: BurstLog;
};

/** Skipped messages logged one per line, at most this many per POST (the access line has the count). */
export const MAX_SKIP_LINES = 20;
const MAX_LOGGED_WAMID = 200;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(bytes: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(utf8.decode(bytes)) };
  } catch {
    return { ok: false };
  }
}

/** Larger bodies refused unread close the connection (node:http would read them outside the gate). */
const DROP_UNREAD_OVER = 64 * 1024;

/** Refusals that need no body: the 413 by Content-Length comes first (readBody), then these. */
function refuseEarly(deps: WhatsAppDeps, req: IncomingMessage): Reply | null {
  const header = req.headers['content-length'];
  if (header === undefined || Number(header) > deps.config.whatsappMaxBodyBytes) return null;
  const close = Number(header) > DROP_UNREAD_OVER ? { Connection: 'close' } : undefined;
  if (deps.config.whatsappAppSecret === null) return withLog(failure('secret_not_configured', close), { result: 'unavailable' });
  const checked = checkHubSignature(req.headers, NO_BODY, []);
  if (!checked.ok && checked.reason !== 'mismatch') return withLog(failure('invalid_signature', close), { result: 'invalid_signature' });
  return null;
}

const NO_BODY = Buffer.alloc(0);

export async function handleWhatsApp(deps: WhatsAppDeps, req: IncomingMessage, requestId: string): Promise<Reply> {
  const early = refuseEarly(deps, req);
  if (early !== null) return early;
  const reserved = bytesToReserve(req.headers['content-length'], deps.config.whatsappMaxBodyBytes);
  if (!deps.whatsappBodies.tryReserve(reserved)) return withLog(failure('server_busy'), { result: 'overloaded' });
  try {
    return await receive(deps, req, requestId);
  } finally {
    deps.whatsappBodies.release(reserved);
  }
}

/**
 * Reads, verifies and maps the body. Its own function so that the raw bytes, their decoded text
 * and the parsed tree are garbage before the commit is awaited: only the messages are kept.
 */
async function readEnvelope(deps: WhatsAppDeps, req: IncomingMessage): Promise<{ ok: true; envelope: Envelope } | { ok: false; reply: Reply }> {
  const refuse = (reply: Reply, result: string): { ok: false; reply: Reply } => ({ ok: false, reply: withLog(reply, { result }) });
  const body = await readBody(req, deps.config.whatsappMaxBodyBytes, deps.bodyGate);
  if (!body.ok) {
    switch (body.reason) {
      case 'too_large':
        return refuse(failure('payload_too_large', body.closeConnection ? { Connection: 'close' } : undefined), 'payload_too_large');
      case 'timeout':
        return refuse(failure('request_timeout'), 'body_timeout');
      case 'busy':
        return refuse(failure('server_busy', { Connection: 'close' }), 'overloaded');
      case 'bad_framing':
        return refuse(failure('bad_request'), 'bad_request');
      case 'incomplete':
        return refuse(failure('incomplete_body'), 'incomplete_body');
    }
  }
  const secret = deps.config.whatsappAppSecret;
  if (secret === null) return refuse(failure('secret_not_configured'), 'unavailable');
  if (!checkHubSignature(req.headers, body.bytes, [secret]).ok) return refuse(failure('invalid_signature'), 'invalid_signature');
  const parsed = parseJson(body.bytes);
  if (!parsed.ok) return refuse(invalid([{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }]), 'validation_error');
  const envelope = mapEnvelope(parsed.value);
  return envelope.ok ? { ok: true, envelope } : refuse(invalid(envelope.errors), 'validation_error');
}

async function receive(deps: WhatsAppDeps, req: IncomingMessage, requestId: string): Promise<Reply> {
  const read = await readEnvelope(deps, req);
  if (!read.ok) return read.reply;
  const { envelope } = read;
  logSkipped(deps.logger, requestId, envelope);

  const counts = { messages: envelope.messages.length + envelope.skipped.length, created: 0, duplicates: 0, skipped: envelope.skipped.length };
  const results = await deps.store.insertMany(envelope.messages);
  const failed = results.find((r) => !r.ok);
  if (failed !== undefined && !failed.ok) {
    deps.metrics.storageErrors.inc(['insert']);
    deps.storageFaults.failed('insert', 'storage write failed', failed.error, { request_id: requestId, messages: envelope.messages.length });
    return withLog(failure('storage_unavailable'), { result: 'unavailable', ...counts });
  }
  deps.storageFaults.succeeded('insert');
  for (const r of results) {
    if (r.ok && r.created) counts.created += 1;
    else counts.duplicates += 1;
  }
  // Counted only once answered 200: a refused POST is retried, and would otherwise count twice.
  count(deps.metrics, envelope, counts);
  return withLog(json(200, { status: 'ok' }), { result: 'ok', ...counts, statuses: statusTotal(envelope) } satisfies LogFields);
}

function statusTotal(envelope: Envelope): number {
  return WHATSAPP_STATUSES.reduce((n, s) => n + envelope.statuses[s], 0);
}

function count(metrics: WhatsAppDeps['metrics'], envelope: Envelope, counts: { created: number; duplicates: number; skipped: number }): void {
  metrics.whatsappMessages.inc(['created'], counts.created);
  metrics.whatsappMessages.inc(['duplicate'], counts.duplicates);
  metrics.whatsappMessages.inc(['skipped'], counts.skipped);
  for (const status of WHATSAPP_STATUSES) metrics.whatsappStatuses.inc([status], envelope.statuses[status]);
}

function logSkipped(logger: Logger, requestId: string, envelope: Envelope): void {
  for (const { wamid, reason } of envelope.skipped.slice(0, MAX_SKIP_LINES)) {
    logger.warn('whatsapp message skipped', { request_id: requestId, wamid: wamid === null ? null : wamid.slice(0, MAX_LOGGED_WAMID), reason });
  }
}
