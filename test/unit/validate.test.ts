import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateMessage, MAX_TEXT_CODE_POINTS } from '../../src/webhook/validate.ts';
import type { FieldError } from '../../src/http/errors.ts';
import type { Message } from '../../src/domain/message.ts';

const VALID = {
  message_id: 'm1',
  from: '+919876543210',
  to: '+14155550100',
  ts: '2025-01-15T10:00:00Z',
  text: 'Hello',
} as const;

function withField(field: string, value: unknown): Record<string, unknown> {
  return { ...VALID, [field]: value };
}

function without(field: string): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...VALID };
  delete copy[field];
  return copy;
}

function accepted(body: unknown): Message {
  const result = validateMessage(body);
  if (!result.ok) assert.fail(`expected a message, got ${JSON.stringify(result.errors)}`);
  return result.message;
}

function rejected(body: unknown): FieldError[] {
  const result = validateMessage(body);
  if (result.ok) assert.fail(`expected errors, got ${JSON.stringify(result.message)}`);
  for (const e of result.errors) {
    assert.equal(typeof e.msg, 'string');
    assert.notEqual(e.msg, '');
    assert.equal(typeof e.type, 'string');
    assert.notEqual(e.type, '');
    assert.deepEqual(Object.keys(e).sort(), ['loc', 'msg', 'type']);
  }
  return result.errors;
}

/** Exactly one problem, at ["body", field]. */
function rejectedAt(body: unknown, field: string): FieldError {
  const errors = rejected(body);
  assert.deepEqual(errors.map((e) => e.loc), [['body', field]]);
  const [only] = errors;
  assert.ok(only);
  return only;
}

test('a valid message', () => {
  assert.deepEqual(accepted({ ...VALID }), {
    messageId: 'm1',
    from: '+919876543210',
    to: '+14155550100',
    ts: '2025-01-15T10:00:00Z',
    tsKey: '2025-01-15T10:00:00.000000000Z',
    text: 'Hello',
  });
});

test('unknown extra fields are ignored', () => {
  const message = accepted({ ...VALID, extra: 1, nested: { a: [1] }, MESSAGE_ID: 'x' });
  assert.deepEqual(Object.keys(message).sort(), ['from', 'messageId', 'text', 'to', 'ts', 'tsKey']);
  assert.equal(message.messageId, 'm1');
});

// message_id

test('message_id: any non-empty string', () => {
  assert.equal(accepted(withField('message_id', 'x')).messageId, 'x');
  assert.equal(accepted(withField('message_id', 'ünïcödé-✓-🙂')).messageId, 'ünïcödé-✓-🙂');
});

test('message_id: empty string is rejected', () => {
  const e = rejectedAt(withField('message_id', ''), 'message_id');
  assert.equal(e.type, 'string_too_short');
});

test('message_id: missing is rejected', () => {
  assert.equal(rejectedAt(without('message_id'), 'message_id').type, 'missing');
});

test('message_id: wrong JSON types are rejected', async (t) => {
  for (const value of [1, 0, true, null, ['m1'], { id: 'm1' }]) {
    await t.test(JSON.stringify(value), () => {
      assert.equal(rejectedAt(withField('message_id', value), 'message_id').type, 'string_type');
    });
  }
});

// from / to

for (const field of ['from', 'to'] as const) {
  test(`${field}: valid E.164 numbers`, async (t) => {
    for (const value of ['+1', '+123456789012345', '+919876543210', '+0']) {
      await t.test(value, () => assert.equal(accepted(withField(field, value))[field], value));
    }
  });

  test(`${field}: invalid numbers are rejected`, async (t) => {
    const cases: [string, string][] = [
      ['no plus', '919876543210'],
      ['plus only', '+'],
      ['16 digits', '+1234567890123456'],
      ['two plus signs', '++919876543210'],
      ['inner space', '+91 9876543210'],
      ['leading space', ' +919876543210'],
      ['trailing space', '+919876543210 '],
      ['trailing newline', '+919876543210\n'],
      ['inner newline', '+9198\n76543210'],
      ['leading newline', '\n+919876543210'],
      ['dash', '+1-415-555-0100'],
      ['letters', '+1415abc'],
      ['Arabic-Indic digits', '+٩١٩٨٧٦٥٤٣٢١٠'],
      ['fullwidth digits', '+９１９８７６５４３２１０'],
      ['fullwidth plus', '＋919876543210'],
      ['empty', ''],
    ];
    for (const [name, value] of cases) {
      await t.test(name, () => {
        assert.equal(rejectedAt(withField(field, value), field).type, 'string_pattern_mismatch');
      });
    }
  });

  test(`${field}: wrong JSON types are rejected`, async (t) => {
    for (const value of [919876543210, null, true, ['+1'], { n: '+1' }]) {
      await t.test(JSON.stringify(value), () => {
        assert.equal(rejectedAt(withField(field, value), field).type, 'string_type');
      });
    }
  });

  test(`${field}: missing is rejected`, () => {
    assert.equal(rejectedAt(without(field), field).type, 'missing');
  });
}

// ts

test('ts: valid timestamps', async (t) => {
  const cases: [string, string][] = [
    ['2025-01-15T10:00:00Z', '2025-01-15T10:00:00.000000000Z'],
    ['2025-01-15T10:00:00.5Z', '2025-01-15T10:00:00.500000000Z'],
    ['2025-01-15T10:00:00.123456789Z', '2025-01-15T10:00:00.123456789Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000000000Z'],
    ['2000-02-29T12:00:00Z', '2000-02-29T12:00:00.000000000Z'],
    ['2025-04-30T23:59:59Z', '2025-04-30T23:59:59.000000000Z'],
    ['2025-12-31T23:59:59.999999999Z', '2025-12-31T23:59:59.999999999Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000000000Z'],
    ['9999-12-31T23:59:59Z', '9999-12-31T23:59:59.000000000Z'],
  ];
  for (const [ts, key] of cases) {
    await t.test(ts, () => {
      const message = accepted(withField('ts', ts));
      assert.equal(message.ts, ts);
      assert.equal(message.tsKey, key);
    });
  }
});

test('ts: invalid timestamps are rejected', async (t) => {
  const cases: [string, string][] = [
    ['10 fraction digits', '2025-01-15T10:00:00.1234567890Z'],
    ['dot without digits', '2025-01-15T10:00:00.Z'],
    ['lowercase z', '2025-01-15T10:00:00z'],
    ['lowercase t', '2025-01-15t10:00:00Z'],
    ['+00:00 offset', '2025-01-15T10:00:00+00:00'],
    ['+02:00 offset', '2025-01-15T10:00:00+02:00'],
    ['no zone', '2025-01-15T10:00:00'],
    ['space instead of T', '2025-01-15 10:00:00Z'],
    ['leading space', ' 2025-01-15T10:00:00Z'],
    ['trailing space', '2025-01-15T10:00:00Z '],
    ['trailing newline', '2025-01-15T10:00:00Z\n'],
    ['no seconds', '2025-01-15T10:00Z'],
    ['date only', '2025-01-15'],
    ['epoch as string', '1736935200'],
    ['Feb 29 on a non-leap year', '2025-02-29T00:00:00Z'],
    ['1900-02-29 (not a leap year)', '1900-02-29T00:00:00Z'],
    ['Feb 30', '2024-02-30T00:00:00Z'],
    ['hour 24', '2025-01-15T24:00:00Z'],
    ['minute 60', '2025-01-15T10:60:00Z'],
    ['second 60', '2025-01-15T23:59:60Z'],
    ['month 13', '2025-13-01T00:00:00Z'],
    ['month 00', '2025-00-10T00:00:00Z'],
    ['day 00', '2025-01-00T00:00:00Z'],
    ['day 31 in April', '2025-04-31T00:00:00Z'],
    ['day 32', '2025-01-32T00:00:00Z'],
    ['year 0000', '0000-01-01T00:00:00Z'],
    ['5-digit year', '12025-01-15T10:00:00Z'],
    ['one-digit month', '2025-1-15T10:00:00Z'],
    ['Arabic-Indic digits', '٢٠٢٥-01-15T10:00:00Z'],
    ['RFC 2822', 'Wed, 15 Jan 2025 10:00:00 GMT'],
    ['empty', ''],
  ];
  for (const [name, ts] of cases) {
    await t.test(name, () => {
      assert.equal(rejectedAt(withField('ts', ts), 'ts').type, 'value_error');
    });
  }
});

test('ts: an epoch number is rejected', () => {
  assert.equal(rejectedAt(withField('ts', 1736935200), 'ts').type, 'string_type');
  assert.equal(rejectedAt(withField('ts', 1736935200000), 'ts').type, 'string_type');
});

test('ts: missing or null is rejected', () => {
  assert.equal(rejectedAt(without('ts'), 'ts').type, 'missing');
  assert.equal(rejectedAt(withField('ts', null), 'ts').type, 'string_type');
});

// text

test('text: absent is null', () => {
  assert.equal(accepted(without('text')).text, null);
});

test('text: null is null', () => {
  assert.equal(accepted(withField('text', null)).text, null);
});

test('text: an empty string is kept as an empty string', () => {
  assert.equal(accepted(withField('text', '')).text, '');
});

test('text: 4096 emoji pass (code points, not UTF-16 units)', () => {
  const text = '😀'.repeat(4096);
  assert.equal(text.length, 8192);
  assert.equal(MAX_TEXT_CODE_POINTS, 4096);
  assert.equal(accepted(withField('text', text)).text, text);
});

test('text: 4096 ASCII characters pass', () => {
  const text = 'a'.repeat(4096);
  assert.equal(accepted(withField('text', text)).text, text);
});

test('text: 4097 characters fail', () => {
  assert.equal(rejectedAt(withField('text', 'a'.repeat(4097)), 'text').type, 'string_too_long');
});

test('text: 4097 emoji fail', () => {
  assert.equal(rejectedAt(withField('text', '😀'.repeat(4097)), 'text').type, 'string_too_long');
});

test('text: 4095 emoji plus two ASCII characters fail', () => {
  assert.equal(rejectedAt(withField('text', `${'😀'.repeat(4095)}ab`), 'text').type, 'string_too_long');
});

test('text: wrong JSON types are rejected', async (t) => {
  for (const value of [42, 0, false, ['hi'], { body: 'hi' }]) {
    await t.test(JSON.stringify(value), () => {
      assert.equal(rejectedAt(withField('text', value), 'text').type, 'string_type');
    });
  }
});

// lone surrogates

test('lone surrogates are rejected in every string field', async (t) => {
  const cases: [string, string][] = [
    ['message_id', 'm\uD800'],
    ['message_id', '\uDC00'],
    ['text', 'hello \uD83D'],
    ['text', '\uDE00 reversed'],
    ['text', '\uDE00\uD83D'],
  ];
  for (const [field, value] of cases) {
    await t.test(`${field} ${JSON.stringify(value)}`, () => {
      assert.equal(rejectedAt(withField(field, value), field).type, 'string_unicode');
    });
  }
});

test('lone surrogates in from/to/ts are rejected', async (t) => {
  for (const field of ['from', 'to', 'ts']) {
    await t.test(field, () => {
      rejectedAt(withField(field, '\uD800'), field);
    });
  }
});

test('lone surrogates as parsed from JSON escapes are rejected', () => {
  const body: unknown = JSON.parse('{"message_id":"m\\ud800","from":"+1","to":"+2","ts":"2025-01-15T10:00:00Z","text":"\\udc00x"}');
  const errors = rejected(body);
  assert.deepEqual(errors.map((e) => e.loc), [['body', 'message_id'], ['body', 'text']]);
});

test('a well-formed surrogate pair is accepted', () => {
  assert.equal(accepted(withField('text', '\uD83D\uDE00')).text, '😀');
});

// non-object bodies

test('non-object bodies give one problem at ["body"]', async (t) => {
  for (const body of [[], [VALID], null, 42, 'a string', true, undefined]) {
    await t.test(String(JSON.stringify(body)), () => {
      const errors = rejected(body);
      assert.equal(errors.length, 1);
      assert.deepEqual(errors[0]?.loc, ['body']);
    });
  }
});

// collecting every problem

test('an empty object reports every required field as missing', () => {
  const errors = rejected({});
  assert.deepEqual(errors.map((e) => e.loc), [
    ['body', 'message_id'],
    ['body', 'from'],
    ['body', 'to'],
    ['body', 'ts'],
  ]);
  assert.deepEqual(errors.map((e) => e.type), ['missing', 'missing', 'missing', 'missing']);
});

test('all problems are collected, each at ["body", field]', () => {
  const errors = rejected({ message_id: 7, from: '12', to: '+1 2', ts: '2025-02-29T00:00:00Z', text: 3 });
  assert.deepEqual(errors.map((e) => e.loc), [
    ['body', 'message_id'],
    ['body', 'from'],
    ['body', 'to'],
    ['body', 'ts'],
    ['body', 'text'],
  ]);
  assert.deepEqual(errors.map((e) => e.type), ['string_type', 'string_pattern_mismatch', 'string_pattern_mismatch', 'value_error', 'string_type']);
});

test('errors never contain the input value', () => {
  const inputs = {
    message_id: '',
    from: '+LEAKFROM123',
    to: 'LEAKTO+99',
    ts: 'LEAKTS-2025-01-15',
    text: `LEAKTEXT${'x'.repeat(5000)}`,
  };
  const errors = rejected(inputs);
  assert.equal(errors.length, 5);
  const serialised = JSON.stringify(errors);
  for (const leak of ['LEAKFROM', 'LEAKTO', 'LEAKTS', 'LEAKTEXT', 'xxxxxxxxxx']) {
    assert.equal(serialised.includes(leak), false, `errors echo ${leak}`);
  }
  for (const e of errors) assert.equal(Object.hasOwn(e, 'input'), false);
});

