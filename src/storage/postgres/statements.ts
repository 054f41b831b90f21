// Named prepared statements known to one connection. A name is bound to one SQL text for the
// connection's life (reusing it for another text is a bug in the caller). An entry is an object
// so a late failure of one query removes only the entry that query used, never a newer one.

export type Entry = { readonly sql: string; state: 'pending' | 'ready' | 'stale' };

export class StatementCache {
  readonly #entries = new Map<string, Entry>();

  get size(): number {
    return this.#entries.size;
  }

  /** The entry to use for `name`, and what must be sent first: Close (stale), Parse (new). */
  use(name: string, sql: string): { entry: Entry; close: boolean; parse: boolean } {
    const known = this.#entries.get(name);
    if (known !== undefined && known.sql !== sql) throw new TypeError(`prepared statement name ${JSON.stringify(name)} is already used for other SQL`);
    if (known !== undefined && known.state !== 'stale') return { entry: known, close: false, parse: false };
    const entry: Entry = { sql, state: 'pending' };
    this.#entries.set(name, entry);
    return { entry, close: known !== undefined, parse: true };
  }

  /** The server no longer has it (Parse failed, or "prepared statement does not exist"). */
  forget(name: string, entry: Entry): void {
    if (this.#entries.get(name) === entry) this.#entries.delete(name);
  }

  /** The server has it but its plan is outdated ("cached plan must not change result type"). */
  markStale(name: string, entry: Entry): void {
    if (this.#entries.get(name) === entry) entry.state = 'stale';
  }
}
