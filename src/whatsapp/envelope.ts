// The Cloud API webhook envelope → the messages to store, those skipped (with a reason), and the
// delivery statuses to count. Pure. Only changes with `field: "messages"` carry messages or
// statuses; any other field (account updates, template reviews, …) is acknowledged and ignored.
// https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
import type { Message } from '../domain/message.ts';
import type { FieldError } from '../http/errors.ts';
import { WHATSAPP_STATUSES, type WhatsAppStatus } from '../metrics/service-metrics.ts';
import { isObject, mapMessage } from './message.ts';

export type Skipped = Readonly<{ wamid: string | null; reason: string }>;

export type Envelope = {
  ok: true;
  /** In envelope order; the same wamid twice is stored once (the second is a duplicate). */
  messages: Message[];
  skipped: Skipped[];
  statuses: Record<WhatsAppStatus, number>;
};

export type EnvelopeResult = Envelope | { ok: false; errors: FieldError[] };

const list = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);

function statusOf(status: unknown): WhatsAppStatus {
  const value = isObject(status) ? status['status'] : undefined;
  return WHATSAPP_STATUSES.find((known) => known === value) ?? 'other';
}

/** Checks the envelope's outer shape (FastAPI-shaped problems), then maps every change. */
export function mapEnvelope(body: unknown): EnvelopeResult {
  if (!isObject(body)) {
    return { ok: false, errors: [{ loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', type: 'model_attributes_type' }] };
  }
  const errors: FieldError[] = [];
  if (body['object'] !== 'whatsapp_business_account') errors.push({ loc: ['body', 'object'], msg: "Input should be 'whatsapp_business_account'", type: 'literal_error' });
  if (!Array.isArray(body['entry'])) errors.push({ loc: ['body', 'entry'], msg: 'Input should be a valid list', type: 'list_type' });
  if (errors.length > 0) return { ok: false, errors };

  const result: Envelope = { ok: true, messages: [], skipped: [], statuses: { sent: 0, delivered: 0, read: 0, failed: 0, other: 0 } };
  for (const entry of list(body['entry'])) {
    for (const change of list(isObject(entry) ? entry['changes'] : undefined)) {
      if (!isObject(change) || change['field'] !== 'messages' || !isObject(change['value'])) continue;
      const value = change['value'];
      const displayPhoneNumber = isObject(value['metadata']) ? value['metadata']['display_phone_number'] : undefined;
      for (const raw of list(value['messages'])) {
        const mapped = mapMessage(raw, displayPhoneNumber);
        if (mapped.ok) result.messages.push(mapped.message);
        else result.skipped.push({ wamid: mapped.wamid, reason: mapped.reason });
      }
      for (const status of list(value['statuses'])) result.statuses[statusOf(status)] += 1;
    }
  }
  return result;
}
