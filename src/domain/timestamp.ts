// The `ts` grammar of SPEC.md: YYYY-MM-DDTHH:MM:SS[.fraction]Z, uppercase T and Z, 1–9 fraction
// digits, a real calendar instant. Timestamps order by instant, not by text ("…:00.5Z" is later
// than "…:00Z" although it sorts first as a string), so each one also gets a fixed-width key,
// zero-padded to nanoseconds, whose byte order is the order of instants.

// The grammar is /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?Z$/,
// checked by hand below: every delivery's ts goes through it, and the expression with its captures
// cost about three times as much (test/unit/timestamp.test.ts holds the cases).
const [ZERO, DASH, T, COLON, DOT, Z] = [48, 45, 84, 58, 46, 90];

/** The decimal value of `n` ASCII digits from `from`, or -1 if any is not one. */
function digits(s: string, from: number, n: number): number {
  let value = 0;
  for (let i = from; i < from + n; i += 1) {
    const d = s.charCodeAt(i) - ZERO;
    if (!(d >= 0 && d <= 9)) return -1;
    value = value * 10 + d;
  }
  return value;
}

export type InstantKey = string;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

export function isCalendarInstant(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  return y >= 1 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo) && h <= 23 && mi <= 59 && s <= 59;
}

/** The ordering key of a timestamp in the strict grammar, or null when it is not one. */
export function instantKey(ts: string): InstantKey | null {
  // "YYYY-MM-DDTHH:MM:SS" (19), then ".1" to ".123456789" or nothing, then "Z".
  const length = ts.length;
  if (length < 20 || length > 30 || ts.charCodeAt(length - 1) !== Z) return null;
  if (ts.charCodeAt(4) !== DASH || ts.charCodeAt(7) !== DASH || ts.charCodeAt(10) !== T || ts.charCodeAt(13) !== COLON || ts.charCodeAt(16) !== COLON) return null;
  const y = digits(ts, 0, 4);
  const mo = digits(ts, 5, 2);
  const d = digits(ts, 8, 2);
  const h = digits(ts, 11, 2);
  const mi = digits(ts, 14, 2);
  const s = digits(ts, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return null;
  let fraction = '';
  if (length > 20) {
    if (ts.charCodeAt(19) !== DOT || length === 21 || digits(ts, 20, length - 21) < 0) return null;
    fraction = ts.slice(20, length - 1);
  }
  if (!isCalendarInstant(y, mo, d, h, mi, s)) return null;
  return `${ts.slice(0, 19)}.${fraction.padEnd(9, '0')}Z`;
}

export const TIMESTAMP_HINT = 'must be a UTC timestamp YYYY-MM-DDTHH:MM:SS[.fraction]Z, e.g. 2025-01-15T10:00:00Z';
