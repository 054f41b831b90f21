// How the writer tells failures apart: a row refused on its own, a lock that may pass, or a
// database that cannot take writes (which readiness reports).

/** An error raised by a statement inside a transaction, as opposed to by BEGIN or COMMIT. */
export class RowError extends Error {
  readonly inner: unknown;
  constructor(inner: unknown) {
    super('statement failed');
    this.inner = inner;
  }
}

export const unwrap = (error: unknown): unknown => (error instanceof RowError ? error.inner : error);

// Primary result codes that say the database cannot take writes, as opposed to a passing lock
// (BUSY, LOCKED) or a refused row (CONSTRAINT): PERM, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, NOTADB.
// https://www.sqlite.org/rescode.html
const STORAGE_FAULTS = new Set([3, 8, 10, 11, 13, 14, 26]);

export function isStorageFault(error: unknown): boolean {
  const code: unknown = typeof error === 'object' && error !== null ? Reflect.get(error, 'errcode') : undefined;
  return typeof code === 'number' && STORAGE_FAULTS.has(code & 0xff);
}
