// The Cloud API envelope → messages mapper, on payloads shaped like Meta's published examples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapEnvelope, type Envelope } from '../../src/whatsapp/envelope.ts';
import { mapMessage, textOf, unixSecondsToTs } from '../../src/whatsapp/message.ts';
import { buttonMessage, buttonReplyMessage, envelope, imageMessage, listReplyMessage, messagesChange, metaJson, statusUpdate, textMessage } from '../helpers/whatsapp.ts';

function mapped(body: unknown): Envelope {
  const result = mapEnvelope(body);
  assert.ok(result.ok, JSON.stringify(result));
  return result;
}

const rows = (e: Envelope): unknown[] => e.messages.map((m) => ({ message_id: m.messageId, from: m.from, to: m.to, ts: m.ts, text: m.text }));
const NO_STATUSES = { sent: 0, delivered: 0, read: 0, failed: 0, other: 0 };

test('a text message becomes one message: wamid, +from, +display number digits, ts from Unix seconds, text.body', () => {
  const m = textMessage('Does it come in another color?');
  const e = mapped(envelope([messagesChange([m])]));
  assert.deepEqual(rows(e), [{ message_id: m['id'], from: '+16505551234', to: '+15550783881', ts: '2025-06-08T20:59:43Z', text: 'Does it come in another color?' }]);
  assert.deepEqual(e.skipped, []);
  assert.deepEqual(e.statuses, NO_STATUSES);
  assert.equal(e.messages[0]?.tsKey, '2025-06-08T20:59:43.000000000Z');
});

test('images: the caption when there is one, else null; video and document captions too', () => {
  const withCaption = imageMessage('Black jacket');
  const without = imageMessage();
  const video = { from: '16505551234', id: 'wamid.video', timestamp: '1750090703', type: 'video', video: { caption: 'A clip', mime_type: 'video/mp4', id: '1' } };
  const doc = { from: '16505551234', id: 'wamid.doc', timestamp: '1750090704', type: 'document', document: { filename: 'invoice.pdf', mime_type: 'application/pdf', id: '2' } };
  const e = mapped(envelope([messagesChange([withCaption, without, video, doc])]));
  assert.deepEqual(e.messages.map((m) => m.text), ['Black jacket', null, 'A clip', null]);
  assert.deepEqual(e.messages.map((m) => m.ts), ['2025-06-16T16:18:22Z', '2025-06-16T16:18:22Z', '2025-06-16T16:18:23Z', '2025-06-16T16:18:24Z']);
});

test('a button reply and interactive button and list replies give their titles', () => {
  const e = mapped(envelope([messagesChange([buttonMessage('Unsubscribe'), buttonReplyMessage('Yes, please'), listReplyMessage('Express Shipping')])]));
  assert.deepEqual(e.messages.map((m) => m.text), ['Unsubscribe', 'Yes, please', 'Express Shipping']);
});

test('other types (audio, sticker, location, reaction, unsupported) are stored with text null', () => {
  const types = [
    { type: 'audio', audio: { mime_type: 'audio/ogg; codecs=opus', id: '3', voice: true } },
    { type: 'sticker', sticker: { mime_type: 'image/webp', id: '4', animated: false } },
    { type: 'location', location: { latitude: 37.4, longitude: -122.1, name: 'Philz Coffee' } },
    { type: 'reaction', reaction: { message_id: 'wamid.x', emoji: '\u{1F44D}' } },
    { type: 'unsupported', errors: [{ code: 131051, title: 'Message type unknown' }] },
    { type: 'interactive', interactive: { type: 'nfm_reply', nfm_reply: { response_json: '{}' } } },
  ];
  const e = mapped(envelope([messagesChange(types.map((t, i) => ({ from: '16505551234', id: `wamid.t${i}`, timestamp: '1750000000', ...t })))]));
  assert.deepEqual(e.messages.map((m) => m.text), types.map(() => null));
});

test('several messages in one entry, several entries, several changes: all, in order', () => {
  const a = textMessage('one');
  const b = textMessage('two');
  const c = textMessage('three', { from: '447700900123' });
  const d = imageMessage('four');
  const e = mapped(envelope([messagesChange([a, b])], [messagesChange([c]), messagesChange([d], { displayPhoneNumber: '+1 555-010-9999' })]));
  assert.deepEqual(e.messages.map((m) => [m.messageId, m.from, m.to, m.text]), [
    [a['id'], '+16505551234', '+15550783881', 'one'],
    [b['id'], '+16505551234', '+15550783881', 'two'],
    [c['id'], '+447700900123', '+15550783881', 'three'],
    [d['id'], '+16505551234', '+15550109999', 'four'],
  ]);
});

test('a statuses-only callback maps no message and counts each status', () => {
  const statuses = ['sent', 'delivered', 'read', 'read', 'failed', 'deleted', 'warning'].map(statusUpdate);
  const e = mapped(envelope([messagesChange([], { statuses })]));
  assert.deepEqual(e.messages, []);
  assert.deepEqual(e.skipped, []);
  assert.deepEqual(e.statuses, { sent: 1, delivered: 1, read: 2, failed: 1, other: 2 });
  const odd = mapped(envelope([messagesChange([], { statuses: [{}, 'read', null, { status: 7 }, { status: 'other' }] })]));
  assert.deepEqual(odd.statuses, { ...NO_STATUSES, other: 5 });
});

test('a change with an unknown field is ignored, even if it looks like messages', () => {
  const e = mapped(envelope([messagesChange([textMessage('hidden')], { field: 'account_update' }), { field: 'message_template_status_update', value: { event: 'APPROVED' } }]));
  assert.deepEqual(e.messages, []);
  assert.deepEqual(e.skipped, []);
});

test('a message without id, or that cannot be mapped or validated, is skipped with a reason, never its text', () => {
  const secretText = 'SKIPPED-TEXT-4b1';
  const good = textMessage('fine');
  const cases: [Record<string, unknown> | string, string | null, RegExp][] = [
    [{ ...textMessage(secretText), id: undefined }, null, /id missing/],
    [{ ...textMessage(secretText), id: '' }, null, /id missing/],
    [{ ...textMessage(secretText), id: 42 }, null, /id missing/],
    ['not an object', null, /not an object/],
    [textMessage(secretText, { id: 'wamid.nofrom', from: undefined }), 'wamid.nofrom', /from missing/],
    [textMessage(secretText, { id: 'wamid.badfrom', from: '+16505551234' }), 'wamid.badfrom', /^from: string_pattern_mismatch$/],
    [textMessage(secretText, { id: 'wamid.longfrom', from: '1234567890123456' }), 'wamid.longfrom', /^from: /],
    [textMessage(secretText, { id: 'wamid.ts1', timestamp: 1749416383 }), 'wamid.ts1', /timestamp/],
    [textMessage(secretText, { id: 'wamid.ts2', timestamp: '-1' }), 'wamid.ts2', /timestamp/],
    [textMessage(secretText, { id: 'wamid.ts3', timestamp: '1749416383.5' }), 'wamid.ts3', /timestamp/],
    [textMessage(secretText, { id: 'wamid.ts4', timestamp: '999999999999' }), 'wamid.ts4', /^ts: value_error$/],
    [textMessage(`${secretText}${'x'.repeat(4096)}`, { id: 'wamid.long' }), 'wamid.long', /^text: string_too_long$/],
    [textMessage('\ud800 lone surrogate', { id: 'wamid.lone' }), 'wamid.lone', /^text: string_unicode$/],
  ];
  const e = mapped(envelope([messagesChange([good, ...cases.map(([m]) => m as Record<string, unknown>)])]));
  assert.deepEqual(rows(e).length, 1);
  assert.equal(e.messages[0]?.messageId, good['id']);
  assert.equal(e.skipped.length, cases.length);
  cases.forEach(([, wamidExpected, reason], i) => {
    const skipped = e.skipped[i];
    assert.equal(skipped?.wamid, wamidExpected, `case ${i}`);
    assert.match(skipped?.reason ?? '', reason, `case ${i}`);
    assert.ok(!(skipped?.reason ?? '').includes(secretText));
  });
  // The business number missing from metadata: every message of that change is skipped.
  const noMeta = mapped({ object: 'whatsapp_business_account', entry: [{ changes: [{ field: 'messages', value: { messages: [textMessage('x', { id: 'wamid.nometa' })] } }] }] });
  assert.deepEqual(noMeta.skipped, [{ wamid: 'wamid.nometa', reason: 'metadata.display_phone_number missing' }]);
  const noDigits = mapped(envelope([messagesChange([textMessage('x', { id: 'wamid.nodigits' })], { displayPhoneNumber: 'n/a' })]));
  assert.deepEqual(noDigits.skipped, [{ wamid: 'wamid.nodigits', reason: 'to: string_pattern_mismatch' }]);
});

test('the same wamid twice in one envelope maps twice (the store keeps the first)', () => {
  const m = textMessage('first');
  const e = mapped(envelope([messagesChange([m, { ...m, text: { body: 'second' } }])]));
  assert.deepEqual(e.messages.map((x) => [x.messageId, x.text]), [[m['id'], 'first'], [m['id'], 'second']]);
});

test('Meta escapes Unicode and "/"; the mapped text is the decoded string', () => {
  const text = 'Café ✓ 👍 a/b';
  const raw = metaJson(envelope([messagesChange([textMessage(text)])]));
  assert.ok(raw.includes('Caf\\u00e9') && raw.includes('\\ud83d\\udc4d') && raw.includes('a\\/b'), raw);
  assert.ok(/^[\x00-\x7f]*$/.test(raw), 'the payload is pure ASCII');
  assert.equal(mapped(JSON.parse(raw)).messages[0]?.text, text);
});

test('the envelope must be an object with object "whatsapp_business_account" and an entry list', () => {
  const problems = (body: unknown): unknown => {
    const r = mapEnvelope(body);
    return r.ok ? 'ok' : r.errors.map((e) => [e.loc.join('.'), e.type]);
  };
  assert.deepEqual(problems([]), [['body', 'model_attributes_type']]);
  assert.deepEqual(problems(null), [['body', 'model_attributes_type']]);
  assert.deepEqual(problems('x'), [['body', 'model_attributes_type']]);
  assert.deepEqual(problems({}), [['body.object', 'literal_error'], ['body.entry', 'list_type']]);
  assert.deepEqual(problems({ object: 'page', entry: [] }), [['body.object', 'literal_error']]);
  assert.deepEqual(problems({ object: 'whatsapp_business_account', entry: {} }), [['body.entry', 'list_type']]);
  assert.equal(problems({ object: 'whatsapp_business_account', entry: [] }), 'ok');
  // Odd shapes inside the entry list are tolerated (nothing to map), never a throw.
  const odd = mapped({ object: 'whatsapp_business_account', entry: [null, 1, 'x', [], {}, { changes: {} }, { changes: [null, 1, { field: 'messages' }, { field: 'messages', value: [] }, { field: 'messages', value: { messages: {} } }] }] });
  assert.deepEqual([odd.messages, odd.skipped], [[], []]);
});

test('textOf and unixSecondsToTs on their own', () => {
  assert.equal(textOf({ type: 'text', text: { body: 7 } }), null);
  assert.equal(textOf({ type: 'text' }), null);
  assert.equal(textOf({ type: 'image', image: 'x' }), null);
  assert.equal(textOf({ type: 'interactive', interactive: { type: 'list_reply', button_reply: { title: 'wrong kind' } } }), null);
  assert.equal(textOf({ type: '__proto__' }), null);
  assert.equal(unixSecondsToTs('0'), '1970-01-01T00:00:00Z');
  assert.equal(unixSecondsToTs('253402300799'), '9999-12-31T23:59:59Z');
  assert.equal(unixSecondsToTs('1234567890123'), null);
  assert.equal(unixSecondsToTs(''), null);
  assert.equal(unixSecondsToTs(' 1'), null);
  assert.deepEqual(mapMessage(textMessage('x', { id: 'wamid.a', timestamp: '253402300800' }), '1'), { ok: false, wamid: 'wamid.a', reason: 'ts: value_error' });
});
