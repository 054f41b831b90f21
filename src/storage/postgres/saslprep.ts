// SASLprep (RFC 4013) as far as it changes which bytes PBKDF2 sees, matching PostgreSQL's own
// src/common/saslprep.c: the server prepares a password the same way when it stores the verifier,
// and falls back to the raw bytes when preparation fails. So we must fail (and fall back) in the
// same cases, or a user with such a password could log in with psql but not with us.
// Not done (as in node-postgres): the bidirectional-text check and the unassigned-code-point check;
// a password that fails only those is prepared here but used raw by the server.

// RFC 3454 C.1.2, mapped to U+0020.
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;
// RFC 3454 B.1, mapped to nothing.
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/gu;
// RFC 3454 C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8, C.9 (C.1.2 is already mapped away).
const PROHIBITED = new RegExp(
  [
    '[\\u0000-\\u001F\\u007F]',
    '[\\u0080-\\u009F\\u06DD\\u070F\\u180E\\u200C\\u200D\\u2028\\u2029\\u2060-\\u2063\\u206A-\\u206F\\uFEFF\\uFFF9-\\uFFFC\\u{1D173}-\\u{1D17A}]',
    '[\\uE000-\\uF8FF\\u{F0000}-\\u{FFFFD}\\u{100000}-\\u{10FFFD}]',
    '[\\uFDD0-\\uFDEF\\uFFFE\\uFFFF\\u{1FFFE}\\u{1FFFF}\\u{2FFFE}\\u{2FFFF}\\u{3FFFE}\\u{3FFFF}\\u{4FFFE}\\u{4FFFF}\\u{5FFFE}\\u{5FFFF}\\u{6FFFE}\\u{6FFFF}\\u{7FFFE}\\u{7FFFF}\\u{8FFFE}\\u{8FFFF}\\u{9FFFE}\\u{9FFFF}\\u{AFFFE}\\u{AFFFF}\\u{BFFFE}\\u{BFFFF}\\u{CFFFE}\\u{CFFFF}\\u{DFFFE}\\u{DFFFF}\\u{EFFFE}\\u{EFFFF}\\u{FFFFE}\\u{FFFFF}\\u{10FFFE}\\u{10FFFF}]',
    '[\\uD800-\\uDFFF]',
    '[\\uFFF9-\\uFFFD]',
    '[\\u2FF0-\\u2FFB]',
    '[\\u0340\\u0341\\u200E\\u200F\\u202A-\\u202E\\u206A-\\u206F]',
    '[\\u{E0001}\\u{E0020}-\\u{E007F}]',
  ].join('|'),
  'u',
);

/** The password as PostgreSQL hashes it. */
export function saslprep(password: string): string {
  // PostgreSQL leaves pure ASCII untouched, control characters included.
  if (/^[\u0000-\u007F]*$/.test(password)) return password;
  // A lone surrogate is not valid UTF-8: the server would have used the raw bytes.
  if (!password.isWellFormed()) return password;
  const prepared = password.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '').normalize('NFKC');
  if (prepared === '' || PROHIBITED.test(prepared)) return password;
  return prepared;
}
