// Live arrivals without extra reads: every answer the writer worker gives to a request that stores
// messages (COMMITTING_OPS, whichever Store method sent it) carries the seq of each row it created,
// and the HTTP thread still holds the messages it sent, so the committed batch is reported to
// subscribers straight from the answer. With no subscriber the cost is one size check per batch.
import type { WriteResult } from './database.ts';
import { COMMITTING_OPS } from './protocol.ts';
import type { Channel } from './worker-store.ts';
import type { Arrival, CommitListener, NewMessage } from '../store.ts';
import { tellListener as tell } from '../tell.ts';

export type CommitFeed = {
  subscribe(listener: CommitListener): () => void;
  /** The same channel, with every answer to a committing op reported to the subscribers first. */
  observe(channel: Channel): Channel;
};

type Answer = { ok: true; value: WriteResult[] } | { ok: false; error: unknown };

export function createCommitFeed(): CommitFeed {
  const listeners = new Set<CommitListener>();

  function report(messages: readonly NewMessage[], answer: Answer): void {
    if (listeners.size === 0) return;
    if (!answer.ok) {
      // The worker did not answer (it died or is being replaced): its COMMIT may have happened.
      for (const listener of [...listeners]) tell(listener, null);
      return;
    }
    const arrivals: Arrival[] = [];
    answer.value.forEach((result, i) => {
      const m = messages[i];
      if (m !== undefined && result.ok && result.created) {
        arrivals.push({ seq: result.seq, message: { message_id: m.messageId, from: m.from, to: m.to, ts: m.ts, text: m.text } });
      }
    });
    if (arrivals.length > 0) for (const listener of [...listeners]) tell(listener, arrivals);
  }

  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    observe(channel) {
      return {
        stop: () => channel.stop(),
        async call(op, arg) {
          const answer = await channel.call(op, arg);
          // A committing op takes the messages and answers one WriteResult each (protocol.ts).
          if (COMMITTING_OPS.has(op)) report(arg as readonly NewMessage[], answer as Answer);
          return answer;
        },
      };
    },
  };
}
