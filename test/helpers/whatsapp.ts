// Cloud API payloads shaped exactly like Meta's published webhook examples
// (https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples), serialised
// and signed the way Meta does: non-ASCII and "/" escaped (\u00e9, \/), HMAC-SHA256 of those raw
// bytes keyed with the app secret, sent as X-Hub-Signature-256: sha256=<hex>.
import { createHmac } from 'node:crypto';

export const WA_SECRET = 'meta-app-secret-3f9c';
export const WA_VERIFY_TOKEN = 'meta-verify-token-7d21';
export const BUSINESS_NUMBER = '15550783881';
export const CUSTOMER = '16505551234';

type Json = Record<string, unknown>;

let counter = 0;
/** A fresh wamid in Meta's shape (base64 after "wamid."). */
export function wamid(): string {
  counter += 1;
  return `wamid.${Buffer.from(`HBgLMTY1MDM4Nzk0MzkVAgASGBQz${process.pid}-${counter}-${Date.now()}`).toString('base64')}`;
}

export function textMessage(body: string, overrides: Json = {}): Json {
  return { from: CUSTOMER, id: wamid(), timestamp: '1749416383', type: 'text', text: { body }, ...overrides };
}

export function imageMessage(caption?: string, overrides: Json = {}): Json {
  const image: Json = {
    mime_type: 'image/jpeg',
    sha256: '1H0Gez2NB0xYE6RkqCzkbhc2WFHb4ojYPDOTOa32Q1k=',
    id: '1003383421387256',
    url: 'https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1003383421387256&ext=1750090702&hash=ARl1gxMWS5RvTchcmtYOWtMYLBYgKpqUcRvvkR1zCUFRqg',
  };
  if (caption !== undefined) image['caption'] = caption;
  return { from: CUSTOMER, id: wamid(), timestamp: '1750090702', type: 'image', image, ...overrides };
}

export function buttonMessage(text: string): Json {
  return {
    context: { from: BUSINESS_NUMBER, id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3N0EyQUJDMjFEQzZCQUMzODMA' },
    from: CUSTOMER,
    id: wamid(),
    timestamp: '1750032988',
    type: 'button',
    button: { payload: 'Unsubscribe-Payload', text },
  };
}

export function listReplyMessage(title: string): Json {
  return {
    context: { from: BUSINESS_NUMBER, id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBIyNjhBN0RFQjM1MEE3MTY4RkQA' },
    from: CUSTOMER,
    id: wamid(),
    timestamp: '1750025136',
    type: 'interactive',
    interactive: { type: 'list_reply', list_reply: { id: 'priority_express', title, description: 'Next Day to 2 Days' } },
  };
}

export function buttonReplyMessage(title: string): Json {
  return {
    context: { from: BUSINESS_NUMBER, id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDNDc5RkEzQ0Y1MjdBNDlDNTEA' },
    from: CUSTOMER,
    id: wamid(),
    timestamp: '1750025137',
    type: 'interactive',
    interactive: { type: 'button_reply', button_reply: { id: 'yes-button', title } },
  };
}

export function statusUpdate(status: string): Json {
  return {
    id: wamid(),
    status,
    timestamp: '1750263773',
    recipient_id: CUSTOMER,
    conversation: { id: '6ceb9d929c1a5eb6b4c1e6a5e5f3f1b2', origin: { type: 'marketing' } },
    pricing: { billable: true, pricing_model: 'PMP', category: 'marketing', type: 'regular' },
  };
}

/** One `changes[]` element with field "messages". */
export function messagesChange(messages: Json[], options: { statuses?: unknown[]; displayPhoneNumber?: string; field?: string } = {}): Json {
  const value: Json = {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: options.displayPhoneNumber ?? BUSINESS_NUMBER, phone_number_id: '106540352242922' },
  };
  if (messages.length > 0) {
    value['contacts'] = [{ profile: { name: 'Sheena Nelson' }, wa_id: CUSTOMER }];
    value['messages'] = messages;
  }
  if (options.statuses !== undefined) value['statuses'] = options.statuses;
  return { value, field: options.field ?? 'messages' };
}

/** The envelope: one entry per list of changes. */
export function envelope(...entries: Json[][]): Json {
  return { object: 'whatsapp_business_account', entry: entries.map((changes) => ({ id: '102290129340398', changes })) };
}

/** JSON as Meta writes it: every non-ASCII UTF-16 unit as \uXXXX, and "/" as "\/". */
export function metaJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/\//g, '\\/');
}

export function metaSignature(body: string | Buffer, secret: string = WA_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
