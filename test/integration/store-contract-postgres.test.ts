// The Store contract (test/contract/store-suite.ts) against the PostgreSQL backend, each test on a
// database of its own in one throwaway cluster (test/helpers/postgres.ts).
import { openPostgresStore } from '../../src/storage/postgres/store/pg-store.ts';
import { parsePostgresUrl } from '../../src/storage/postgres/url.ts';
import type { Store } from '../../src/storage/store.ts';
import { storeContract } from '../contract/store-suite.ts';
import { havePostgres, useCluster } from '../helpers/postgres.ts';

const cluster = useCluster();

storeContract('postgres', async (t) => {
  if (!havePostgres(t)) return null;
  const pg = cluster();
  const database = await pg.createDatabase();
  const parsed = parsePostgresUrl(pg.url(database, 'sslmode=disable'));
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const connection = parsed.config;
  const open = async (): Promise<Store> => (await openPostgresStore({ connection, poolSize: 4, now: () => new Date() })).store;
  let current = await open();
  return {
    store: current,
    async reopen() {
      await current.close();
      current = await open();
      return current;
    },
    async deleteMessages(ids: readonly string[]) {
      // Through psql, not the client under test; ids as hex, so any byte survives the shell.
      const list = ids.map((id) => `convert_from('\\x${Buffer.from(id).toString('hex')}'::bytea, 'UTF8')`).join(', ');
      pg.psql(`DELETE FROM messages WHERE message_id IN (${list})`, database);
    },
    async close() {
      await current.close();
    },
  };
});
