// POST /webhook/whatsapp, in SPEC.md's order: body limit (WHATSAPP_MAX_BODY_BYTES), the app
// secret, X-Hub-Signature-256 over the raw bytes, the envelope's shape, then every mappable message
// stored in one transaction. A message that cannot be mapped or validated is skipped, logged (wamid
// and reason, never its text) and counted, and the answer is still 200: Meta retries any non-200
// for days, and one bad message must not block the good ones. A storage failure is a 503 for the
// whole POST; Meta's retry then stores what is missing (every insert is idempotent).
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config.ts';
import { readBody } from '../http/body.ts';
import { failure, invalid, json, withLog, type Reply } from '../http/reply.ts';
import type { LogFields, Logger } from '../log/logger.ts';
import { WHATSAPP_STATUSES, type ServiceMetrics } from '../metrics/service-metrics.ts';
import type { Store } from '../storage/store.ts';
import { checkHubSignature } from '../webhook/schemes/hub.ts';
import { bytesToReserve, type ByteBudget } from './budget.ts';
import { mapEnvelope, type Envelope } from './envelope.ts';

export type WhatsAppDeps = {
  config: Pick<Config, 'whatsappAppSecret' | 'whatsappMaxBodyBytes'>;
  store: Pick<Store, 'insertMany'>;
  metrics: Pick<ServiceMetrics, 'whatsappMessages' | 'whatsappStatuses'>;
  logger: Logger;
  whatsappBodies: ByteBudget;
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

export async function handleWhatsApp(deps: WhatsAppDeps, req: IncomingMessage, requestId: string): Promise<Reply> {
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
  const body = await readBody(req, deps.config.whatsappMaxBodyBytes);
  if (!body.ok) {
    return body.reason === 'too_large'
      ? refuse(failure('payload_too_large', body.closeConnection ? { Connection: 'close' } : undefined), 'payload_too_large')
      : refuse(failure('incomplete_body'), 'incomplete_body');
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
    deps.logger.error('storage write failed', failed.error, { request_id: requestId, messages: envelope.messages.length });
    return withLog(failure('storage_unavailable'), { result: 'unavailable', ...counts });
  }
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
