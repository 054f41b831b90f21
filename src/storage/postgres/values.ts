// Text-format column values turned into JavaScript values, for the few types the Store uses. int8
// becomes a bigint so counts and sequences stay exact past 2^53; numeric stays a string for the
// same reason; timestamps stay as the server wrote them. Type OIDs: pg_type.dat.
import type { Field } from './wire/decode.ts';

export type Value = string | number | bigint | boolean | null;

export type Row = Record<string, Value>;

const OID = { bool: 16, int8: 20, int2: 21, int4: 23, oid: 26, float4: 700, float8: 701 } as const;

export function decodeValue(typeOid: number, text: string | null): Value {
  if (text === null) return null;
  switch (typeOid) {
    case OID.bool:
      return text === 't';
    case OID.int8:
      return BigInt(text);
    case OID.int2:
    case OID.int4:
    case OID.oid:
      return Number(text);
    case OID.float4:
    case OID.float8:
      // "NaN", "Infinity" and "-Infinity" are what Number() reads too.
      return Number(text);
    default:
      return text;
  }
}

export function buildRow(fields: readonly Field[], values: readonly (string | null)[]): Row {
  const row: Row = {};
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    if (field === undefined) continue;
    const value = decodeValue(field.typeOid, values[i] ?? null);
    // A column named __proto__ must become a property, not the row's prototype.
    if (field.name === '__proto__') Object.defineProperty(row, field.name, { value, enumerable: true, writable: true, configurable: true });
    else row[field.name] = value;
  }
  return row;
}

/** The row count in a CommandComplete tag: "INSERT 0 3" → 3, "SELECT 2" → 2, "BEGIN" → null. */
export function rowCountOf(tag: string): number | null {
  const match = /^(?:INSERT \d+|SELECT|UPDATE|DELETE|MERGE|MOVE|FETCH|COPY) (\d+)$/.exec(tag);
  return match === null ? null : Number(match[1]);
}
