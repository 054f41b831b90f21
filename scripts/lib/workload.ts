// The requests the bench sends, prepared as bytes before a round starts so that signing and
// serialising cost nothing while the clock runs.
import { randomBytes } from 'node:crypto';
import { sign } from '../../src/webhook/signature.ts';
import { requestBytes } from './raw-load.ts';

export type Pool = { requests: Buffer[]; ids: string[] };

const runId = randomBytes(4).toString('hex');
const BASE_MS = Date.parse('2025-01-01T00:00:00Z');
let nextSeq = 0;

/** `count` signed deliveries of new message ids (never reused within this process). */
export function webhookPool(secret: string, count: number): Pool {
  const requests: Buffer[] = [];
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const seq = nextSeq++;
    const id = `bench-${runId}-${seq}`;
    const body = JSON.stringify({
      message_id: id,
      from: `+1555000${String(seq % 20).padStart(4, '0')}`,
      to: '+15559990000',
      ts: new Date(BASE_MS + seq * 1000).toISOString(),
      text: `bench message ${seq}`,
    });
    requests.push(requestBytes('POST', '/webhook', { 'Content-Type': 'application/json', 'X-Signature': sign(secret, body) }, body));
    ids.push(id);
  }
  return { requests, ids };
}

/**
 * Walks a pool: mostly the next new delivery, and with probability `dupRatio` a repeat of one
 * already sent (as a retrying sender would). Past the end of the pool everything is a repeat.
 */
export function webhookPicker(pool: Pool, dupRatio: number): () => { bytes: Buffer; tag: string } {
  let at = 0;
  return () => {
    const fresh = at < pool.requests.length && (at === 0 || Math.random() >= dupRatio);
    const index = fresh ? at++ : Math.floor(Math.random() * Math.max(1, at));
    const bytes = pool.requests[index] ?? pool.requests[0];
    if (bytes === undefined) throw new Error('empty pool');
    return { bytes, tag: fresh ? 'new' : 'dup' };
  };
}
