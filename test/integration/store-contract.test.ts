// The Store contract (test/contract/store-suite.ts) against the SQLite backend, on a real file.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openWorkerStore } from '../../src/storage/sqlite/worker-store.ts';
import type { Store } from '../../src/storage/store.ts';
import { storeContract } from '../contract/store-suite.ts';
import { tempDir } from '../helpers/service.ts';

storeContract('sqlite', async () => {
  const dir = tempDir();
  const path = join(dir, 'contract.db');
  const open = async (): Promise<Store> => (await openWorkerStore({ path, now: () => new Date() })).store;
  let current = await open();
  return {
    store: current,
    async reopen() {
      await current.close();
      current = await open();
      return current;
    },
    async deleteMessages(ids: readonly string[]) {
      const db = new DatabaseSync(path);
      const del = db.prepare('DELETE FROM messages WHERE message_id = ?');
      for (const id of ids) del.run(id);
      db.close();
    },
    async close() {
      await current.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
