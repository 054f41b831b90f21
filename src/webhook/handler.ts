// POST /webhook, in the order SPEC.md fixes: size, signature (over the raw bytes, before any
// parsing; by whichever scheme's header is present, see schemes/detect.ts), JSON object,
// validation, then one atomic insert. Each step's outcome is counted and logged with a result
// from the bounded WEBHOOK_RESULTS set; a verified delivery's line adds its scheme and key.
// What cannot pass is refused before the body is read (a declared size over the limit, no secret,
// signature headers that no body could verify); a body still arriving waits at the body gate
// (http/body-gate.ts), not in the cap on verified work (in-flight.ts), so unsigned uploads cannot
// crowd out signed deliveries. The body is held once and dropped as soon as the message is
// validated, before the insert is awaited.
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config.ts';
import type { FieldError } from '../http/errors.ts';
import type { BodyGate } from '../http/body-gate.ts';
import { readBody } from '../http/body.ts';
import { failure, invalid, text, withLog, type Reply } from '../http/reply.ts';
import type { BurstLog } from '../log/burst.ts';
import type { LogFields } from '../log/logger.ts';
import type { ServiceMetrics, WebhookResult } from '../metrics/service-metrics.ts';
import type { Message } from '../domain/message.ts';
import type { Store } from '../storage/store.ts';
import type { InFlightLimit } from './in-flight.ts';
import { detectScheme, headersCannotVerify, verifyDelivery } from './schemes/detect.ts';
import type { SchemeName } from './schemes/types.ts';
import type { Verification } from './schemes/types.ts';
import { validateMessage } from './validate.ts';

export type WebhookDeps = {
  config: Pick<Config, 'webhookSecret' | 'webhookKeys' | 'toleranceSeconds' | 'maxBodyBytes'>;
  store: Store;
  metrics: Pick<ServiceMetrics, 'webhookRequests' | 'signaturesVerified' | 'storageErrors'>;
  clock: { now(): Date };
  inFlight: InFlightLimit;
  bodyGate: BodyGate;
  /** Storage failures are logged once per burst (log/burst.ts). */
  storageFaults: BurstLog;
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The answer to a stored delivery, serialised once: the same bytes as json(200, { status: 'ok' }). */
const OK: Reply = text(200, JSON.stringify({ status: 'ok' }), 'application/json');

type Parsed = { ok: true; value: unknown } | { ok: false; error: FieldError };

function parseJson(bytes: Buffer): Parsed {
  try {
    return { ok: true, value: JSON.parse(utf8.decode(bytes)) };
  } catch {
    return { ok: false, error: { loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' } };
  }
}

/** The log fields a verification adds: scheme and key (when verified), delivery_id (Standard Webhooks). */
function signatureLog(verdict: Verification): LogFields {
  const fields: Record<string, unknown> = {};
  if (verdict.scheme !== null) fields['scheme'] = verdict.scheme;
  if (verdict.ok) fields['key'] = verdict.key;
  if (verdict.deliveryId !== undefined) fields['delivery_id'] = verdict.deliveryId;
  return fields;
}

type Outcome = (result: WebhookResult, reply: Reply, messageId?: string, signed?: LogFields) => Reply;

/** Counts the outcome and adds its fields to the reply's log line (built in place: this runs for every delivery). */
const outcomeOf = new WeakMap<WebhookDeps, Outcome>();

function outcomes(deps: WebhookDeps): Outcome {
  let outcome = outcomeOf.get(deps);
  if (outcome === undefined) outcomeOf.set(deps, (outcome = newOutcome(deps)));
  return outcome;
}

function newOutcome(deps: WebhookDeps): Outcome {
  const counted = new Map<WebhookResult, () => void>();
  return (result, reply, messageId, signed) => {
    let inc = counted.get(result);
    if (inc === undefined) counted.set(result, (inc = deps.metrics.webhookRequests.bound([result])));
    inc();
    const log: Record<string, unknown> = {};
    if (messageId !== undefined) log['message_id'] = messageId;
    log['dup'] = result === 'duplicate';
    log['result'] = result;
    if (signed !== undefined) for (const name in signed) log[name] = signed[name];
    return reply.log === undefined ? { ...reply, log } : withLog(reply, log);
  };
}

/**
 * A body larger than this that is refused unread closes the connection after the answer, rather
 * than being read and dropped (node:http would read it at full speed, outside the body gate).
 */
const DROP_UNREAD_OVER = 64 * 1024;

/** Refusals that need no body: the 413 by Content-Length comes first (readBody), then these. */
function refuseEarly(deps: WebhookDeps, req: IncomingMessage, outcome: Outcome, scheme: SchemeName | null): Reply | null {
  const header = req.headers['content-length'];
  if (header === undefined || Number(header) > deps.config.maxBodyBytes) return null;
  const close = Number(header) > DROP_UNREAD_OVER ? { Connection: 'close' } : undefined;
  if (deps.config.webhookSecret === null) return outcome('unavailable', failure('secret_not_configured', close));
  const hopeless = headersCannotVerify(req.headers, scheme);
  if (hopeless !== null) return outcome('invalid_signature', failure('invalid_signature', close), undefined, signatureLog(hopeless));
  return null;
}

type Checked = { ok: true; message: Message; signed: LogFields } | { ok: false; reply: Reply };

/** Body, signature, a place among verified deliveries, JSON, validation: only the message is kept. */
async function readVerified(deps: WebhookDeps, req: IncomingMessage, outcome: Outcome, scheme: SchemeName | null): Promise<Checked> {
  let signed: LogFields = {};
  const refuse = (result: WebhookResult, reply: Reply): Checked => ({ ok: false, reply: outcome(result, reply, undefined, signed) });
  const body = await readBody(req, deps.config.maxBodyBytes, deps.bodyGate);
  if (!body.ok) {
    switch (body.reason) {
      case 'too_large':
        return refuse('payload_too_large', failure('payload_too_large', body.closeConnection ? { Connection: 'close' } : undefined));
      case 'timeout':
        return refuse('body_timeout', failure('request_timeout'));
      case 'busy':
        // The rest of the body is not read: the connection closes after the 503.
        return refuse('overloaded', failure('server_busy', { Connection: 'close' }));
      case 'bad_framing':
        return refuse('bad_request', failure('bad_request'));
      case 'incomplete':
        return refuse('incomplete_body', failure('incomplete_body'));
    }
  }
  if (deps.config.webhookSecret === null) return refuse('unavailable', failure('secret_not_configured'));
  const verdict = verifyDelivery(req.headers, body.bytes, deps.config.webhookKeys, { now: deps.clock.now(), toleranceSeconds: deps.config.toleranceSeconds }, scheme);
  signed = signatureLog(verdict);
  if (!verdict.ok) {
    return verdict.reason === 'stale_timestamp'
      ? refuse('stale_timestamp', failure('timestamp_outside_tolerance'))
      : refuse('invalid_signature', failure('invalid_signature'));
  }
  deps.metrics.signaturesVerified.inc([verdict.scheme, verdict.key]);
  // Past here the sender knew the secret: its work is capped apart from unverified uploads.
  if (!deps.inFlight.tryAcquire()) return refuse('overloaded', failure('server_busy'));
  const parsed = parseJson(body.bytes);
  const validated = parsed.ok ? validateMessage(parsed.value) : { ok: false as const, errors: [parsed.error] };
  if (!validated.ok) {
    deps.inFlight.release();
    return refuse('validation_error', invalid(validated.errors));
  }
  return { ok: true, message: validated.message, signed };
}

export async function handleWebhook(deps: WebhookDeps, req: IncomingMessage): Promise<Reply> {
  const outcome = outcomes(deps);
  // The scheme is told by the headers alone: detected once, for the early check and the verification.
  const scheme = detectScheme(req.headers);
  const early = refuseEarly(deps, req, outcome, scheme);
  if (early !== null) return early;
  const checked = await readVerified(deps, req, outcome, scheme);
  if (!checked.ok) return checked.reply;
  const { message, signed } = checked;
  try {
    const stored = await deps.store.insert(message);
    if (!stored.ok) {
      deps.metrics.storageErrors.inc(['insert']);
      deps.storageFaults.failed('insert', 'storage write failed', stored.error, { message_id: message.messageId });
      return outcome('unavailable', failure('storage_unavailable'), message.messageId, signed);
    }
    deps.storageFaults.succeeded('insert');
    return outcome(stored.created ? 'created' : 'duplicate', OK, message.messageId, signed);
  } finally {
    deps.inFlight.release();
  }
}
