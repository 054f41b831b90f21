// Reads the recorded sessions in test/fixtures/postgres/ (made by scripts/pg-record-fixtures.ts)
// and splits each into the client's messages and the server's byte stream. The splitting here is
// written independently of src/ (plain offsets), so a bug in the decoder cannot hide itself.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type RawMessage = { type: string | null; bytes: Buffer };

export type Session = {
  /** Every client message, whole (type byte, length, body); startup-phase ones have type null. */
  client: RawMessage[];
  /** The server's bytes after any one-byte SSLRequest answer, exactly as they arrived. */
  server: Buffer;
  /** The one-byte answer to SSLRequest ("N" or "S"), if there was one. */
  sslAnswer: string | null;
  /** The server's bytes in the chunks they arrived in (after the SSLRequest answer). */
  serverChunks: Buffer[];
};

export type Fixture = { description: string; sessions: Session[] };

const DIR = join(import.meta.dirname, '..', 'fixtures', 'postgres');

export function loadFixture(name: string): Fixture {
  const json = JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as { description: string; sessions: { from: string; hex: string }[][] };
  return { description: json.description, sessions: json.sessions.map(split) };
}

function split(chunks: { from: string; hex: string }[]): Session {
  const clientBytes = Buffer.concat(chunks.filter((c) => c.from === 'client').map((c) => Buffer.from(c.hex, 'hex')));
  const serverChunks = chunks.filter((c) => c.from === 'server').map((c) => Buffer.from(c.hex, 'hex'));
  let server = Buffer.concat(serverChunks);
  const client: RawMessage[] = [];
  let offset = 0;
  let startup = true;
  let sslAnswer: string | null = null;
  while (offset < clientBytes.length) {
    if (startup) {
      const length = clientBytes.readInt32BE(offset);
      const code = clientBytes.readInt32BE(offset + 4);
      client.push({ type: null, bytes: clientBytes.subarray(offset, offset + length) });
      offset += length;
      if (code === 80877103) {
        sslAnswer = server.subarray(0, 1).toString('latin1');
        server = server.subarray(1);
        const first = serverChunks[0];
        if (first !== undefined) serverChunks[0] = first.subarray(1);
      } else {
        startup = false;
      }
      continue;
    }
    const length = clientBytes.readInt32BE(offset + 1);
    client.push({ type: String.fromCharCode(clientBytes[offset] ?? 0), bytes: clientBytes.subarray(offset, offset + 1 + length) });
    offset += 1 + length;
  }
  return { client, server, sslAnswer, serverChunks: serverChunks.filter((c) => c.length > 0) };
}

/** The body of each typed server message, by plain offsets. */
export function serverMessages(stream: Buffer): RawMessage[] {
  const out: RawMessage[] = [];
  for (let offset = 0; offset < stream.length; ) {
    const length = stream.readInt32BE(offset + 1);
    out.push({ type: String.fromCharCode(stream[offset] ?? 0), bytes: stream.subarray(offset, offset + 1 + length) });
    offset += 1 + length;
  }
  return out;
}
