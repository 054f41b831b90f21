// The one statement of an insert transaction (writer.ts runs it, COMMIT pipelined behind): a call
// of the schema's store function (schema.ts) with the batch as text[] literals (text.ts), so one
// prepared statement serves every batch size.
import type { NewMessage } from '../../store.ts';
import type { Param } from '../client.ts';
import { ARRIVAL_LOCK, ARRIVALS_CHANNEL } from './schema.ts';
import { foldedForDb, textArray, toDb } from './text.ts';

export const STORE = {
  name: 'wh_store_v1',
  sql: `SELECT stored_id, stored_seq FROM webhook_api_store_v1($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::text[],
    $9::bigint, $10::text, $11::text)`,
};

/** The parameters of STORE: the batch's columns, the arrival lock, and the NOTIFY channel and payload prefix. */
export function storeParams(rows: readonly NewMessage[], payloadPrefix: string): Param[] {
  const column = (pick: (m: NewMessage) => string | null): string => textArray(rows.map(pick));
  return [
    column((m) => toDb(m.messageId)),
    column((m) => toDb(m.from)),
    column((m) => toDb(m.to)),
    column((m) => toDb(m.ts)),
    column((m) => (m.text === null ? null : toDb(m.text))),
    column((m) => m.createdAt),
    column((m) => m.tsKey),
    column((m) => foldedForDb(m.text)),
    ARRIVAL_LOCK,
    ARRIVALS_CHANNEL,
    payloadPrefix,
  ];
}
