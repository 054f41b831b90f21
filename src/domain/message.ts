import type { InstantKey } from './timestamp.ts';

/** A validated inbound message, ready to store. */
export type Message = Readonly<{
  messageId: string;
  from: string;
  to: string;
  /** As received; returned unchanged by /messages and /stats. */
  ts: string;
  tsKey: InstantKey;
  text: string | null;
}>;

/** A message as the API returns it. */
export type StoredMessage = {
  message_id: string;
  from: string;
  to: string;
  ts: string;
  text: string | null;
};
