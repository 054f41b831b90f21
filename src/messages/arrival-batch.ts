// One committed batch as the open streams see it: its SSE frames are built and encoded once, on
// first use, and the same bytes go to every unfiltered stream (a hundred streams cost one
// JSON.stringify and one UTF-8 encoding per message, not a hundred); folded texts (for `q`) likewise.
import { foldText } from '../domain/fold.ts';
import type { Arrival } from '../storage/store.ts';
import { encodePieces } from './pieces.ts';
import { eventFrame } from './sse.ts';

/** A stream's filters, with `q` folded once when the stream opens. */
export type LiveFilter = Readonly<{ from: string | null; foldedQ: string | null }>;

export const liveFilter = (filter: { from: string | null; q: string | null }): LiveFilter =>
  ({ from: filter.from, foldedQ: filter.q === null ? null : foldText(filter.q) });

export type ArrivalBatch = {
  readonly arrivals: readonly Arrival[];
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** The frames of the matching arrivals with seq > `after`, as bytes (empty when none), and how many. */
  frames(filter: LiveFilter, after: number): { chunk: Buffer; count: number };
  /** Rough size of the whole batch's frames in bytes, for buffer limits. */
  bytes(): number;
};

export function createArrivalBatch(arrivals: readonly Arrival[]): ArrivalBatch {
  let frames: string[] | undefined;
  let all: Buffer | undefined;
  let folded: (string | null)[] | undefined;
  const frameAt = (i: number): string => {
    frames ??= arrivals.map(eventFrame);
    return frames[i] ?? '';
  };
  const foldedAt = (i: number): string | null => {
    folded ??= arrivals.map((a) => (a.message.text === null ? null : foldText(a.message.text)));
    return folded[i] ?? null;
  };
  const firstSeq = arrivals[0]?.seq ?? 0;
  const lastSeq = arrivals[arrivals.length - 1]?.seq ?? 0;

  return {
    arrivals,
    firstSeq,
    lastSeq,
    frames(filter, after) {
      const unfiltered = filter.from === null && filter.foldedQ === null;
      if (unfiltered && firstSeq > after) {
        all ??= encodePieces(arrivals.map((_, i) => frameAt(i)));
        return { chunk: all, count: arrivals.length };
      }
      const q = filter.foldedQ;
      const parts: string[] = [];
      arrivals.forEach((a, i) => {
        if (a.seq <= after) return;
        if (filter.from !== null && a.message.from !== filter.from) return;
        if (q !== null && !(foldedAt(i)?.includes(q) ?? false)) return;
        parts.push(frameAt(i));
      });
      return { chunk: encodePieces(parts), count: parts.length };
    },
    bytes() {
      all ??= encodePieces(arrivals.map((_, i) => frameAt(i)));
      return all.length;
    },
  };
}
