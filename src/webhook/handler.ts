// POST /webhook, in the order SPEC.md fixes: size, signature (over the raw bytes, before any
// parsing), JSON object, validation, then one atomic insert. Each step's outcome is counted and
// logged with a result from the bounded WEBHOOK_RESULTS set.
// What cannot pass is refused before the body is read (a declared size over the limit, no secret,
// a signature header that is not 64 hex digits); a body still arriving waits at the body gate
// (http/body-gate.ts), not in the cap on verified work (in-flight.ts), so unsigned uploads cannot
// crowd out signed deliveries. The body is held once and dropped as soon as the message is
// validated, before the insert is awaited.
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config.ts';
import type { FieldError } from '../http/errors.ts';
import type { BodyGate } from '../http/body-gate.ts';
import { readBody } from '../http/body.ts';
import { failure, invalid, json, withLog, type Reply } from '../http/reply.ts';
import type { BurstLog } from '../log/burst.ts';
import type { ServiceMetrics, WebhookResult } from '../metrics/service-metrics.ts';
import type { Message } from '../domain/message.ts';
import type { Store } from '../storage/store.ts';
import type { InFlightLimit } from './in-flight.ts';
import { isSignatureHeader, verifySignature } from './signature.ts';
import { validateMessage } from './validate.ts';

export type WebhookDeps = {
  config: Pick<Config, 'webhookSecret' | 'maxBodyBytes'>;
  store: Store;
  metrics: Pick<ServiceMetrics, 'webhookRequests' | 'storageErrors'>;
  inFlight: InFlightLimit;
  bodyGate: BodyGate;
  /** Storage failures are logged once per burst (log/burst.ts). */
  storageFaults: BurstLog;
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

type Outcome = (result: WebhookResult, reply: Reply, messageId?: string) => Reply;

function outcomes(deps: WebhookDeps): Outcome {
  return (result, reply, messageId) => {
    deps.metrics.webhookRequests.inc([result]);
    return withLog(reply, { ...(messageId !== undefined && { message_id: messageId }), dup: result === 'duplicate', result });
  };
}

/**
 * A body larger than this that is refused unread closes the connection after the answer, rather
 * than being read and dropped (node:http would read it at full speed, outside the body gate).
 */
const DROP_UNREAD_OVER = 64 * 1024;

/** Refusals that need no body: the 413 by Content-Length comes first (readBody), then these. */
function refuseEarly(deps: WebhookDeps, req: IncomingMessage, outcome: Outcome): Reply | null {
  const header = req.headers['content-length'];
  if (header === undefined || Number(header) > deps.config.maxBodyBytes) return null;
  const close = Number(header) > DROP_UNREAD_OVER ? { Connection: 'close' } : undefined;
  if (deps.config.webhookSecret === null) return outcome('unavailable', failure('secret_not_configured', close));
  if (!isSignatureHeader(req.headers['x-signature'])) return outcome('invalid_signature', failure('invalid_signature', close));
  return null;
}

type Checked = { ok: true; message: Message } | { ok: false; reply: Reply };

/** Body, signature, a place among verified deliveries, JSON, validation: only the message is kept. */
async function readVerified(deps: WebhookDeps, req: IncomingMessage, outcome: Outcome): Promise<Checked> {
  const refuse = (result: WebhookResult, reply: Reply): Checked => ({ ok: false, reply: outcome(result, reply) });
  const body = await readBody(req, deps.config.maxBodyBytes, deps.bodyGate);
  if (!body.ok) {
    switch (body.reason) {
      case 'too_large':
        return refuse('payload_too_large', failure('payload_too_large', body.closeConnection ? { Connection: 'close' } : undefined));
      case 'timeout':
        return refuse('body_timeout', failure('request_timeout'));
      case 'busy':
        // The rest of the body is not read: the connection closes after the 503.
        // The rest of the body is not read: the connection closes after the 503.
        return refuse('overloaded', failure('server_busy', { Connection: 'close' }));
      case 'bad_framing':
        return refuse('bad_request', failure('bad_request'));
      case 'incomplete':
        return refuse('incomplete_body', failure('incomplete_body'));
    }
  }
  const secret = deps.config.webhookSecret;
  if (secret === null) return refuse('unavailable', failure('secret_not_configured'));
  if (!verifySignature(secret, body.bytes, req.headers['x-signature'])) return refuse('invalid_signature', failure('invalid_signature'));
  // Past here the sender knew the secret: its work is capped apart from unverified uploads.
  if (!deps.inFlight.tryAcquire()) return refuse('overloaded', failure('server_busy'));
  const parsed = parseJson(body.bytes);
  const validated = parsed.ok ? validateMessage(parsed.value) : { ok: false as const, errors: [parsed.error] };
  if (!validated.ok) {
    deps.inFlight.release();
    return refuse('validation_error', invalid(validated.errors));
  }
  return { ok: true, message: validated.message };
}

export async function handleWebhook(deps: WebhookDeps, req: IncomingMessage): Promise<Reply> {
  const outcome = outcomes(deps);
  const early = refuseEarly(deps, req, outcome);
  if (early !== null) return early;
  const checked = await readVerified(deps, req, outcome);
  if (!checked.ok) return checked.reply;
  const { message } = checked;
  try {
    const stored = await deps.store.insert(message);
    if (!stored.ok) {
      deps.metrics.storageErrors.inc(['insert']);
      deps.storageFaults.failed('insert', 'storage write failed', stored.error, { message_id: message.messageId });
      return outcome('unavailable', failure('storage_unavailable'), message.messageId);
    }
    deps.storageFaults.succeeded('insert');
    return outcome(stored.created ? 'created' : 'duplicate', json(200, { status: 'ok' }), message.messageId);
  } finally {
    deps.inFlight.release();
  }
}
