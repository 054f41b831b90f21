// The `ts` grammar of SPEC.md: YYYY-MM-DDTHH:MM:SS[.fraction]Z, uppercase T and Z, 1–9 fraction
// digits, a real calendar instant. Timestamps order by instant, not by text ("…:00.5Z" is later
// than "…:00Z" although it sorts first as a string), so each one also gets a fixed-width key,
// zero-padded to nanoseconds, whose byte order is the order of instants.

const GRAMMAR = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?Z$/;

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
  const m = GRAMMAR.exec(ts);
  if (m === null) return null;
  const [, y = '', mo = '', d = '', h = '', mi = '', s = '', fraction = ''] = m;
  if (!isCalendarInstant(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s))) return null;
  return `${y}-${mo}-${d}T${h}:${mi}:${s}.${fraction.padEnd(9, '0')}Z`;
}

export const TIMESTAMP_HINT = 'must be a UTC timestamp YYYY-MM-DDTHH:MM:SS[.fraction]Z, e.g. 2025-01-15T10:00:00Z';
