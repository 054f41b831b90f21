// Fills a database opened with the service's own openDatabase, in large transactions.
import type { Database } from '../../src/storage/sqlite/database.ts';
import type { NewMessage } from '../../src/storage/store.ts';
import { seedMessages } from './seed-data.ts';

const CHUNK = 10_000;

export function seedDatabase(db: Database, rows: number, seed: number, progress: (done: number) => void): void {
  let chunk: NewMessage[] = [];
  let done = 0;
  const commit = (): void => {
    const failed = db.insertBatch(chunk).find((r) => !r.ok);
    if (failed !== undefined && !failed.ok) throw failed.error;
    done += chunk.length;
    chunk = [];
    progress(done);
  };
  for (const message of seedMessages(rows, seed)) {
    chunk.push(message);
    if (chunk.length === CHUNK) commit();
  }
  if (chunk.length > 0) commit();
}
