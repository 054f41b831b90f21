// Store doubles for tests.
import type { Store } from '../../src/storage/store.ts';

export type FailingStoreOptions = {
  /** The message of the error every call fails with. */
  message?: string;
};

/** A store whose database never answers: every read and write fails, and ping is false. */
export function failingStore(options: FailingStoreOptions = {}): Store {
  const message = options.message ?? 'SQLITE_IOERR: disk I/O error';
  const error = (): { ok: false; error: unknown } => ({ ok: false, error: new Error(message) });
  return {
    insert: async () => error(),
    insertMany: async (messages) => messages.map(() => error()),
    list: async () => error(),
    scan: async () => error(),
    replay: async () => error(),
    subscribe: () => () => {},
    cursorKey: new Uint8Array(32),
    stats: async () => error(),
    ping: async () => false,
    writable: async () => false,
    close: async () => {},
  };
}
