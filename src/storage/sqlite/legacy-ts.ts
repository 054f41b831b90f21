// Ordering keys for rows written by the earlier service, whose `ts` values may not follow today's
// strict grammar (offsets, lowercase z, a space for T, no seconds). Such rows are kept as they are;
// they only need a key that places them at their instant.
import { instantKey, isCalendarInstant, type InstantKey } from '../../domain/timestamp.ts';

const LENIENT = /^\s*([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?\s*(Z|z|[+-][0-9]{2}:?[0-9]{2})?\s*$/;

/** Key for a UTC millisecond instant plus extra nanoseconds below the millisecond. */
function keyFromEpoch(ms: number, subMillisecondNanos: string): InstantKey | null {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1 || date.getUTCFullYear() > 9999) return null;
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ for years 0001–9999
  return `${iso.slice(0, 23)}${subMillisecondNanos.padEnd(6, '0')}Z`;
}

function lenientKey(ts: string): InstantKey | null {
  const m = LENIENT.exec(ts);
  if (m === null) return null;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  if (!isCalendarInstant(y, mo, d, h, mi, s)) return null;
  const fraction = (m[7] ?? '').slice(0, 9).padEnd(9, '0');
  const zone = m[8] ?? 'Z';
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const digits = zone.replace(':', '');
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
  }
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, Number(fraction.slice(0, 3)));
  return keyFromEpoch(date.getTime() - offsetMinutes * 60_000, fraction.slice(3));
}

/**
 * The ordering key of any stored `ts`. Unreadable values get the empty key: they sort first and
 * never match `since`, but the row is kept and still listed.
 */
export function legacyInstantKey(ts: string): InstantKey {
  const strict = instantKey(ts);
  if (strict !== null) return strict;
  // An ISO-looking value with an impossible date stays unreadable; Date.parse would roll it over.
  if (LENIENT.test(ts)) return lenientKey(ts) ?? '';
  return keyFromEpoch(Date.parse(ts), '') ?? '';
}
