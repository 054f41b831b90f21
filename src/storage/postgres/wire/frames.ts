// Splits the byte stream from the server into messages: one type byte, an Int32 length that counts
// itself but not the type byte, then the body. TCP delivers any split, so a frame may arrive a byte
// at a time or many frames in one chunk. A length under 4 or over the limit cannot be a real frame
// (pg-protocol trusts any length; a corrupt or hostile one would make it buffer without bound).
// https://www.postgresql.org/docs/current/protocol-overview.html#PROTOCOL-MESSAGE-CONCEPTS

export type Frame = { type: number; body: Buffer };

export type FrameResult = { ok: true; frames: Frame[] } | { ok: false; problem: string };

export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

export class FrameReader {
  readonly #maxFrameBytes: number;
  #chunks: Buffer[] = [];
  #size = 0;
  /** How many bytes must be buffered before a frame can complete: chunks are joined only then. */
  #need = 5;
  #failed = false;

  constructor(maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received but not yet part of a whole frame. */
  get buffered(): number {
    return this.#size;
  }

  /** Feeds one chunk; returns every frame it completes. After a failure the reader stays failed. */
  push(chunk: Buffer): FrameResult {
    if (this.#failed) return { ok: false, problem: 'the stream already failed' };
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    if (this.#size < this.#need) return { ok: true, frames: [] };
    const data = this.#chunks.length === 1 ? chunk : Buffer.concat(this.#chunks, this.#size);
    this.#chunks = [];
    this.#size = 0;
    const frames: Frame[] = [];
    let offset = 0;
    this.#need = 5;
    while (data.length - offset >= 5) {
      const length = data.readUInt32BE(offset + 1);
      if (length < 4 || length > this.#maxFrameBytes) {
        this.#failed = true;
        return { ok: false, problem: `a message length of ${length} bytes is out of range` };
      }
      const end = offset + 1 + length;
      if (end > data.length) {
        this.#need = 1 + length;
        break;
      }
      frames.push({ type: data[offset] ?? 0, body: data.subarray(offset + 5, end) });
      offset = end;
    }
    if (offset < data.length) {
      // Copied, so a few leftover bytes do not pin a large chunk in memory.
      const rest = Buffer.from(data.subarray(offset));
      this.#chunks.push(rest);
      this.#size = rest.length;
    }
    return { ok: true, frames };
  }
}
