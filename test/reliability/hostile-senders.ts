// Seeded hostile requests for the senders' schemes and the WhatsApp route, mixed into the hostile
// suite: Standard Webhooks and X-Hub-Signature-256 deliveries (valid, stale, and with broken
// headers), Cloud API envelopes (signed, unsigned, badly signed, malformed, over the route's
// limit) and handshake queries. Valid signed messages must be stored exactly; nothing else.
import { createHmac } from 'node:crypto';
import { standardKeyBytes } from '../../src/webhook/schemes/keys.ts';
import type { Random } from '../helpers/seeded.ts';
import { generateCase, HOSTILE_SECRET, rowJson, strip, TEXT_MARK, validRow, type HostileCase, type Row } from './hostile-cases.ts';

export const HOSTILE_PREVIOUS = `whsec_${Buffer.from('hostile-previous-key-0123456789ab').toString('base64')}`;
export const HOSTILE_WA_SECRET = 'H0stile-WhatsApp-App-S3cret-77';
export const HOSTILE_VERIFY_TOKEN = 'H0stile-Verify-T0ken-31';
export const HOSTILE_TOLERANCE_SECONDS = 3600;
export const HOSTILE_WA_MAX_BODY = 65_536;

/** The child's environment for these families. */
export const SENDER_ENV: Readonly<Record<string, string>> = {
  WEBHOOK_SECRET_PREVIOUS: `retired-one ${HOSTILE_PREVIOUS}`,
  WEBHOOK_TOLERANCE_SECONDS: String(HOSTILE_TOLERANCE_SECONDS),
  WHATSAPP_APP_SECRET: HOSTILE_WA_SECRET,
  WHATSAPP_VERIFY_TOKEN: HOSTILE_VERIFY_TOKEN,
  WHATSAPP_MAX_BODY_BYTES: String(HOSTILE_WA_MAX_BODY),
};
export const SENDER_SECRETS = [HOSTILE_PREVIOUS, HOSTILE_WA_SECRET, HOSTILE_VERIFY_TOKEN, 'retired-one'];

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const JSON_TYPE = { 'Content-Type': 'application/json' };

function standardHeaders(secret: string, id: string, ts: string, body: Buffer): Record<string, string> {
  const key = standardKeyBytes(secret) ?? Buffer.alloc(0);
  const sig = createHmac('sha256', key).update(`${id}.${ts}.`).update(body).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${sig}` };
}
const hubValue = (secret: string, body: Buffer): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const post = (path: string, body: Buffer, headers: Record<string, string>): HostileCase['request'] => ({ method: 'POST', path, headers: { ...JSON_TYPE, ...headers }, body });

/** Standard Webhooks: valid (current or previous key, webhook- or svix-) → 200 and stored; stale or broken → 401. */
function standard(rng: Random): HostileCase {
  const row = validRow(rng);
  const body = utf8(rowJson(row));
  const id = `msg_${rng.int(0, 1e9)}`;
  const ts = String(nowSeconds() + rng.int(-600, 600));
  const secret = rng.chance(0.7) ? HOSTILE_SECRET : HOSTILE_PREVIOUS;
  const good = standardHeaders(secret, id, ts, body);
  const sig = good['webhook-signature'] ?? '';
  const roll = rng.int(0, 15);
  if (roll <= 3) {
    const headers = rng.chance(0.3) ? Object.fromEntries(Object.entries(good).map(([k, v]) => [k.replace('webhook-', 'svix-'), v])) : good;
    if (rng.chance(0.3)) headers['webhook-signature' in headers ? 'webhook-signature' : 'svix-signature'] = `v2,abc v1,${Buffer.alloc(32, 1).toString('base64')} ${sig}`;
    return { family: 'standard valid', request: post('/webhook', body, headers), expect: [200], stores: strip(row) };
  }
  const stale = String(nowSeconds() + rng.pick([-1, 1]) * (HOSTILE_TOLERANCE_SECONDS + rng.int(120, 10 ** 6)));
  const broken: (() => Record<string, string>)[] = [
    () => standardHeaders(secret, id, stale, body), // signed, outside the window
    () => ({ ...good, 'webhook-signature': 'v1,' }),
    () => ({ ...good, 'webhook-signature': `v1, ${sig.slice(3, 20)}` }),
    () => ({ ...good, 'webhook-signature': sig.replace(/\+/g, '-').replace(/\//g, '_').replace(/=$/, '') + 'A' }),
    () => ({ ...good, 'webhook-signature': `${Array.from({ length: 10 }, () => 'v1,AAAA').join(' ')} ${sig}` }),
    () => ({ ...good, 'webhook-signature': `${sig.slice(0, 25)} ${sig.slice(25)}` }),
    () => ({ ...good, 'webhook-timestamp': `${ts}000` }),
    () => ({ ...good, 'webhook-timestamp': `+${ts}` }),
    () => ({ ...good, 'webhook-timestamp': `-${ts}` }),
    () => ({ ...good, 'webhook-id': `${id}.x` }),
    () => ({ ...good, 'webhook-id': 'x'.repeat(257) }),
    () => ({ 'webhook-id': id, 'webhook-signature': sig }),
    () => ({ ...standardHeaders('retired-two', id, ts, body) }),
    () => ({ ...good, 'webhook-signature': 'v1,'.repeat(rng.int(1, 3000)) }),
    () => ({ ...good, 'webhook-id': 'other-id' }),
  ];
  return { family: 'standard broken', request: post('/webhook', body, rng.pick(broken)()), expect: [401] };
}

/** X-Hub-Signature-256 on /webhook: valid (current or a previous key) → 200; anything else → 401. */
function hub(rng: Random): HostileCase {
  const row = validRow(rng);
  const body = utf8(rowJson(row));
  if (rng.chance(0.4)) {
    const secret = rng.pick([HOSTILE_SECRET, 'retired-one', HOSTILE_PREVIOUS]);
    return { family: 'hub valid', request: post('/webhook', body, { 'X-Hub-Signature-256': hubValue(secret, body) }), expect: [200], stores: strip(row) };
  }
  const good = hubValue(HOSTILE_SECRET, body);
  const value = rng.pick([good.slice(7), `SHA256=${good.slice(7)}`, `sha1=${good.slice(7, 47)}`, `${good}0`, good.slice(0, -1), `sha256=${'é'.repeat(32)}`, hubValue(HOSTILE_WA_SECRET, body), `${good}, ${good}`, '']);
  return { family: 'hub broken', request: post('/webhook', body, { 'X-Hub-Signature-256': value }), expect: [401] };
}

type WaMessage = { raw: Record<string, unknown>; row: Row | null };

/** One Cloud API message, valid (with the row it must create) or one that must be skipped. */
function waMessage(rng: Random, displayDigits: string): WaMessage {
  const row = strip(validRow(rng));
  const seconds = rng.int(0, 4_102_444_800);
  const ts = new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
  const from = row.from.slice(1);
  const text = `${TEXT_MARK} ${rng.pick(['plain', 'é中👍', '"quotes" \\ /slash', "'; DROP TABLE messages; --"])} ${rng.int(0, 1e6)}`;
  const base = { from, id: row.message_id, timestamp: String(seconds) };
  const kinds: (() => WaMessage)[] = [
    () => ({ raw: { ...base, type: 'text', text: { body: text } }, row: { ...row, from: `+${from}`, to: `+${displayDigits}`, ts, text } }),
    () => ({ raw: { ...base, type: 'image', image: { caption: text, mime_type: 'image/jpeg', id: '1' } }, row: { ...row, to: `+${displayDigits}`, ts, text } }),
    () => ({ raw: { ...base, type: 'image', image: { mime_type: 'image/jpeg', id: '1' } }, row: { ...row, to: `+${displayDigits}`, ts, text: null } }),
    () => ({ raw: { ...base, type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'x', title: text } } }, row: { ...row, to: `+${displayDigits}`, ts, text } }),
    () => ({ raw: { ...base, type: 'button', button: { payload: 'p', text } }, row: { ...row, to: `+${displayDigits}`, ts, text } }),
    () => ({ raw: { ...base, type: 'sticker', sticker: { id: '2' } }, row: { ...row, to: `+${displayDigits}`, ts, text: null } }),
    // Skipped: no id, a bad sender, a bad timestamp, a text too long, not an object.
    () => ({ raw: { ...base, id: undefined, type: 'text', text: { body: text } }, row: null }),
    () => ({ raw: { ...base, from: `+${from}`, type: 'text', text: { body: text } }, row: null }),
    () => ({ raw: { ...base, timestamp: rng.pick([Number(base.timestamp), '-1', '1e9', '', '9999999999999']), type: 'text', text: { body: text } }, row: null }),
    () => ({ raw: { ...base, type: 'text', text: { body: `${text}${'x'.repeat(4096)}` } }, row: null }),
  ];
  return rng.pick(kinds)();
}

/** POST /webhook/whatsapp: signed envelopes (stored exactly), unsigned or badly signed (401), malformed (422), too big (413). */
function whatsapp(rng: Random): HostileCase {
  const digits = String(rng.int(1, 999999999999999));
  const display = rng.chance(0.5) ? digits : `+${digits.slice(0, 1)} ${digits.slice(1, 4)}-${digits.slice(4)}`;
  const displayDigits = display.replace(/[^0-9]/g, '');
  const messages = Array.from({ length: rng.int(0, 6) }, () => waMessage(rng, displayDigits));
  const statuses = Array.from({ length: rng.int(0, 3) }, () => ({ id: `wamid.s${rng.int(0, 1e9)}`, status: rng.pick(['sent', 'delivered', 'read', 'failed', 'deleted']), timestamp: '1750263773', recipient_id: '16505551234' }));
  const value: Record<string, unknown> = { messaging_product: 'whatsapp', metadata: { display_phone_number: display, phone_number_id: '1' }, messages: messages.map((m) => m.raw) };
  if (statuses.length > 0) value['statuses'] = statuses;
  const changes: unknown[] = [{ value, field: 'messages' }];
  if (rng.chance(0.2)) changes.push({ field: 'account_update', value: { messages: [{ id: 'never-stored', from: '1', timestamp: '1', type: 'text', text: { body: TEXT_MARK } }] } });
  let json = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', changes }] });
  if (rng.chance(0.5)) json = json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).replace(/\//g, '\\/');
  const body = utf8(json);
  const rows = messages.flatMap((m) => (m.row === null ? [] : [m.row]));
  const roll = rng.int(0, 9);
  if (roll <= 3) {
    // The first valid copy of an id wins; the suite's ids are unique, so every row is new.
    return { family: 'whatsapp valid', request: post('/webhook/whatsapp', body, { 'X-Hub-Signature-256': hubValue(HOSTILE_WA_SECRET, body) }), expect: [200], storesAll: rows };
  }
  if (roll <= 6) {
    const headers = rng.pick<Record<string, string>>([
      {},
      { 'X-Hub-Signature-256': hubValue(HOSTILE_SECRET, body) },
      { 'X-Hub-Signature-256': hubValue(HOSTILE_WA_SECRET, Buffer.concat([body, utf8(' ')])) },
      { 'X-Hub-Signature-256': hubValue(HOSTILE_WA_SECRET, body).slice(7) },
      { 'X-Signature': hubValue(HOSTILE_WA_SECRET, body).slice(7) },
      { 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` },
      { 'X-Hub-Signature-256': 'sha256=' + 'é'.repeat(64) },
    ]);
    return { family: 'whatsapp unsigned', request: post('/webhook/whatsapp', body, headers), expect: [401] };
  }
  if (roll === 7) {
    const bad = utf8(rng.pick(['', '[]', 'null', '{"object":"page","entry":[]}', '{"object":"whatsapp_business_account"}', '{"object":"whatsapp_business_account","entry":{}}', json.slice(0, -1), `${'['.repeat(10_000)}${']'.repeat(10_000)}`]));
    return { family: 'whatsapp malformed', request: post('/webhook/whatsapp', bad, { 'X-Hub-Signature-256': hubValue(HOSTILE_WA_SECRET, bad) }), expect: [422] };
  }
  if (roll === 8) {
    const big = Buffer.concat([body, Buffer.alloc(HOSTILE_WA_MAX_BODY - body.length + rng.int(1, 5000), 0x20)]);
    return { family: 'whatsapp too large', request: post('/webhook/whatsapp', big, { 'X-Hub-Signature-256': hubValue(HOSTILE_WA_SECRET, big) }), expect: [413] };
  }
  const query = rng.pick<[string, number]>([
    [`hub.mode=subscribe&hub.verify_token=${HOSTILE_VERIFY_TOKEN}&hub.challenge=${rng.int(0, 1e9)}`, 200],
    [`hub.mode=subscribe&hub.verify_token=${HOSTILE_VERIFY_TOKEN}&hub.challenge=${'x'.repeat(129)}`, 400],
    [`hub.mode=subscribe&hub.verify_token=${HOSTILE_VERIFY_TOKEN}&hub.challenge=%3Cscript%3E`, 400],
    [`hub.mode=subscribe&hub.verify_token=${HOSTILE_VERIFY_TOKEN}`, 400],
    [`hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1`, 403],
    [`hub.mode=subscribe&hub.verify_token=${HOSTILE_VERIFY_TOKEN}x&hub.challenge=1`, 403],
    [`hub.mode=subscribe&hub.verify_token=%E0%A4%A&hub.challenge=1`, 403],
    [`hub.mode=unsubscribe&hub.verify_token=${HOSTILE_VERIFY_TOKEN}&hub.challenge=1`, 403],
    [`hub.mode=subscribe&hub.verify_token=${'t'.repeat(5000)}&hub.challenge=1`, 403],
    ['', 403],
  ]);
  return { family: 'whatsapp handshake', request: { method: rng.chance(0.1) ? 'HEAD' : 'GET', path: `/webhook/whatsapp?${query[0]}`, headers: {} }, expect: [query[1]] };
}

/** A case of the whole suite: about a quarter from these families, the rest from hostile-cases.ts. */
export function generateAnyCase(rng: Random): HostileCase {
  const roll = rng.int(1, 100);
  if (roll <= 9) return standard(rng);
  if (roll <= 13) return hub(rng);
  if (roll <= 25) return whatsapp(rng);
  return generateCase(rng);
}
