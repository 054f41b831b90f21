// One message object of a Cloud API envelope → the service's Message, or the reason it cannot be
// one. Pure. The result passes the same validation as POST /webhook (validateMessage).
// Shapes: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components#messages-object
import type { Message } from '../domain/message.ts';
import { validateMessage } from '../webhook/validate.ts';

export type Mapped = { ok: true; message: Message } | { ok: false; wamid: string | null; reason: string };

/** Unix seconds as Meta sends them: a string of digits. 12 digits reach past year 9999 (then the ts is refused). */
const UNIX_SECONDS = /^[0-9]{1,12}$/;
const MEDIA_WITH_CAPTION = new Set(['image', 'video', 'document']);

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const field = (value: unknown, name: string): unknown => (isObject(value) ? value[name] : undefined);
const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * `text.body` of a text message; the caption of an image, video or document; the title of a
 * button or interactive (button or list) reply; else null (audio, sticker, location, reaction, …).
 */
export function textOf(message: Record<string, unknown>): string | null {
  const type = message['type'];
  if (type === 'text') return stringOrNull(field(message['text'], 'body'));
  if (typeof type === 'string' && MEDIA_WITH_CAPTION.has(type)) return stringOrNull(field(message[type], 'caption'));
  if (type === 'button') return stringOrNull(field(message['button'], 'text'));
  if (type === 'interactive') {
    const interactive = message['interactive'];
    const kind = field(interactive, 'type');
    if (kind === 'button_reply' || kind === 'list_reply') return stringOrNull(field(field(interactive, kind), 'title'));
  }
  return null;
}

/** `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds; null when they are not a string of digits. */
export function unixSecondsToTs(value: unknown): string | null {
  if (typeof value !== 'string' || !UNIX_SECONDS.test(value)) return null;
  return new Date(Number(value) * 1000).toISOString().replace('.000Z', 'Z');
}

/** `displayPhoneNumber` is `value.metadata.display_phone_number` of the change the message came in. */
export function mapMessage(raw: unknown, displayPhoneNumber: unknown): Mapped {
  if (!isObject(raw)) return { ok: false, wamid: null, reason: 'not an object' };
  const id = raw['id'];
  if (typeof id !== 'string' || id === '') return { ok: false, wamid: null, reason: 'id missing' };
  const skip = (reason: string): Mapped => ({ ok: false, wamid: id, reason });
  if (typeof raw['from'] !== 'string') return skip('from missing');
  if (typeof displayPhoneNumber !== 'string') return skip('metadata.display_phone_number missing');
  const ts = unixSecondsToTs(raw['timestamp']);
  if (ts === null) return skip('timestamp is not Unix seconds');

  const validated = validateMessage({
    message_id: id,
    from: `+${raw['from']}`,
    to: `+${displayPhoneNumber.replace(/[^0-9]/g, '')}`,
    ts,
    text: textOf(raw),
  });
  if (!validated.ok) return skip(validated.errors.map((e) => `${e.loc.slice(1).join('.')}: ${e.type}`).join(', '));
  return { ok: true, message: validated.message };
}
