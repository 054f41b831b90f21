// POST /webhook, in the order SPEC.md fixes: size, signature (over the raw bytes, before any
// parsing; by whichever scheme's header is present, see schemes/detect.ts), JSON object,
// validation, then one atomic insert. Each step's outcome is counted and logged with a result
// from the bounded WEBHOOK_RESULTS set; a verified delivery's line adds its scheme and key.
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config.ts';
import type { FieldError } from '../http/errors.ts';
import { readBody } from '../http/body.ts';
import { failure, invalid, json, withLog, type Reply } from '../http/reply.ts';
import type { LogFields, Logger } from '../log/logger.ts';
import type { ServiceMetrics, WebhookResult } from '../metrics/service-metrics.ts';
import type { Store } from '../storage/store.ts';
import type { InFlightLimit } from './in-flight.ts';
import { verifyDelivery } from './schemes/detect.ts';
import type { Verification } from './schemes/types.ts';
import { validateMessage } from './validate.ts';

export type WebhookDeps = {
  config: Pick<Config, 'webhookSecret' | 'webhookKeys' | 'toleranceSeconds' | 'maxBodyBytes'>;
  store: Store;
  metrics: Pick<ServiceMetrics, 'webhookRequests' | 'signaturesVerified'>;
  clock: { now(): Date };
  logger: Logger;
  inFlight: InFlightLimit;
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

type Parsed = { ok: true; value: unknown } | { ok: false; error: FieldError };

function parseJson(bytes: Buffer): Parsed {
  try {
    return { ok: true, value: JSON.parse(utf8.decode(bytes)) };
  } catch {
    return { ok: false, error: { loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' } };
  }
}

export async function handleWebhook(deps: WebhookDeps, req: IncomingMessage): Promise<Reply> {
  // Refused before the body is read: an overloaded service does the least work it can. Node reads
  // and drops the unread body after the answer, so the connection stays usable for the retry.
  if (!deps.inFlight.tryAcquire()) {
    deps.metrics.webhookRequests.inc(['overloaded']);
    return withLog(failure('server_busy'), { dup: false, result: 'overloaded' });
  }
  try {
    return await receive(deps, req);
  } finally {
    deps.inFlight.release();
  }
}

/** The log fields a verification adds: scheme and key (when verified), delivery_id (Standard Webhooks). */
function signatureLog(verdict: Verification): LogFields {
  return {
    ...(verdict.scheme !== null && { scheme: verdict.scheme }),
    ...(verdict.ok && { key: verdict.key }),
    ...(verdict.deliveryId !== undefined && { delivery_id: verdict.deliveryId }),
  };
}

async function receive(deps: WebhookDeps, req: IncomingMessage): Promise<Reply> {
  let signed: LogFields = {};
  const outcome = (result: WebhookResult, reply: Reply, messageId?: string): Reply => {
    deps.metrics.webhookRequests.inc([result]);
    return withLog(reply, { ...(messageId !== undefined && { message_id: messageId }), dup: result === 'duplicate', result, ...signed });
  };

  const body = await readBody(req, deps.config.maxBodyBytes);
  if (!body.ok) {
    return body.reason === 'too_large'
      ? outcome('payload_too_large', failure('payload_too_large', body.closeConnection ? { Connection: 'close' } : undefined))
      : outcome('incomplete_body', failure('incomplete_body'));
  }
  const secret = deps.config.webhookSecret;
  if (secret === null) return outcome('unavailable', failure('secret_not_configured'));
  const verdict = verifyDelivery(req.headers, body.bytes, deps.config.webhookKeys, { now: deps.clock.now(), toleranceSeconds: deps.config.toleranceSeconds });
  signed = signatureLog(verdict);
  if (!verdict.ok) {
    return verdict.reason === 'stale_timestamp'
      ? outcome('stale_timestamp', failure('timestamp_outside_tolerance'))
      : outcome('invalid_signature', failure('invalid_signature'));
  }
  deps.metrics.signaturesVerified.inc([verdict.scheme, verdict.key]);

  const parsed = parseJson(body.bytes);
  if (!parsed.ok) return outcome('validation_error', invalid([parsed.error]));
  const validated = validateMessage(parsed.value);
  if (!validated.ok) return outcome('validation_error', invalid(validated.errors));

  const { message } = validated;
  const stored = await deps.store.insert(message);
  if (!stored.ok) {
    deps.logger.error('storage write failed', stored.error, { message_id: message.messageId });
    return outcome('unavailable', failure('storage_unavailable'), message.messageId);
  }
  return outcome(stored.created ? 'created' : 'duplicate', json(200, { status: 'ok' }), message.messageId);
}
