// The PostgreSQL schema, versioned in schema_migrations and migrated at start-up under an advisory
// lock (migrate.ts), so replicas started together migrate once. Each version is a list of single
// statements (the extended protocol takes one at a time), run in one transaction.
//
// - messages keeps the SQLite table's columns (created_at as timestamptz), with ts_key (the instant
//   as a fixed-width key) and text_fold (foldText of text) beside them. Every text column sorts in
//   byte order (COLLATE "C"), as SQLite's BINARY does, whatever the database's locale.
// - arrivals is the arrival sequence: one row per stored message, numbered by arrival_seq inside a
//   step that commits in seq order (writer.ts explains why a seq column on messages could not be).
// - message_totals holds /stats totals in stripes (one per connection slot) summed on read, so
//   replicas' commits never queue on one row; sender_counts one row per sender.
// - Triggers keep the totals and arrivals right when rows are deleted or changed by ad-hoc SQL.

/** Keys of pg_advisory_xact_lock: "webhook-api migrate" and "webhook-api arrivals" (arbitrary, distinct). */
export const MIGRATION_LOCK = 0x7765_6268_6d67_7274n;
export const ARRIVAL_LOCK = 0x7765_6268_6172_7276n;
/** Stripes of message_totals; a transaction adds to the stripe of its connection (backend pid). */
export const STRIPES = 64;
/** The LISTEN/NOTIFY channel of committed arrivals. */
export const ARRIVALS_CHANNEL = 'webhook_api_arrivals';

/**
 * One insert transaction's work, server-side, so the client sends it in one statement with COMMIT
 * pipelined behind it (writer.ts explains the order). The rows go in first, unnumbered, in
 * parallel with other transactions, in message_id order (two transactions that share ids lock
 * them in the same order; a repeated id in the batch is inserted once, at its first occurrence).
 * Then the arrival step under the advisory lock: the new rows are numbered in batch order, the
 * per-sender counts (in sender order) and this connection's stripe of the totals are added, and
 * NOTIFY goes out (delivered only if this commits). Counting inside the locked step means no row
 * lock on a count is ever held while waiting for anything else. A sender is new when its count
 * after the upsert is just what this batch added. The name carries a version: a later change is a
 * new function, so replicas of both versions work during a rolling upgrade.
 */
const STORE_FUNCTION = `CREATE FUNCTION webhook_api_store_v1(
    p_ids text[], p_froms text[], p_tos text[], p_tss text[], p_texts text[], p_created timestamptz[], p_keys text[], p_folds text[],
    p_lock bigint, p_channel text, p_payload text)
  RETURNS TABLE (stored_id text, stored_seq bigint) LANGUAGE plpgsql AS $$
  DECLARE
    new_ids text[];
    new_froms text[];
    out_ids text[];
    out_seqs bigint[];
  BEGIN
    -- A lock wait (another transaction's same id, the arrival step) ends in seconds, and so does a
    -- transaction its client left idle.
    PERFORM set_config('lock_timeout', '5s', true), set_config('idle_in_transaction_session_timeout', '15s', true);
    -- A 200 means durable: a database or role set to synchronous_commit = off does not weaken it
    -- (any stronger setting, such as remote_apply, is kept).
    IF current_setting('synchronous_commit') = 'off' THEN
      PERFORM set_config('synchronous_commit', 'on', true);
    END IF;
    WITH ins AS (
      INSERT INTO messages AS m (message_id, from_msisdn, to_msisdn, ts, text, created_at, ts_key, text_fold)
      SELECT i.id, i.f, i.t, i.ts, i.x, i.c, i.k, i.fold
        FROM unnest(p_ids, p_froms, p_tos, p_tss, p_texts, p_created, p_keys, p_folds) WITH ORDINALITY AS i(id, f, t, ts, x, c, k, fold, ord)
        ORDER BY i.id COLLATE "C", i.ord
      ON CONFLICT (message_id) DO NOTHING
      RETURNING m.message_id, m.from_msisdn
    ), placed AS (
      SELECT ins.message_id, ins.from_msisdn, min(b.ord) AS ord
        FROM ins JOIN unnest(p_ids) WITH ORDINALITY AS b(id, ord) ON b.id = ins.message_id
        GROUP BY ins.message_id, ins.from_msisdn
    )
    SELECT array_agg(placed.message_id ORDER BY placed.ord), array_agg(placed.from_msisdn ORDER BY placed.ord) INTO new_ids, new_froms FROM placed;
    IF new_ids IS NULL THEN
      RETURN;
    END IF;

    PERFORM pg_advisory_xact_lock(p_lock);
    WITH numbered AS (
      INSERT INTO arrivals AS a (seq, message_id)
      SELECT nextval('arrival_seq'), o.id FROM (SELECT n.id, n.ord FROM unnest(new_ids) WITH ORDINALITY AS n(id, ord) ORDER BY n.ord) o
      RETURNING a.seq, a.message_id
    )
    SELECT array_agg(numbered.message_id ORDER BY numbered.seq), array_agg(numbered.seq ORDER BY numbered.seq) INTO out_ids, out_seqs FROM numbered;
    WITH per AS (
      SELECT s.f AS from_msisdn, count(*) AS n FROM unnest(new_froms) AS s(f) GROUP BY s.f
    ), counted AS (
      INSERT INTO sender_counts AS c (from_msisdn, n) SELECT per.from_msisdn, per.n FROM per ORDER BY per.from_msisdn
      ON CONFLICT (from_msisdn) DO UPDATE SET n = c.n + excluded.n
      RETURNING c.from_msisdn, c.n
    )
    INSERT INTO message_totals AS t (stripe, total, senders)
    SELECT pg_backend_pid() % ${STRIPES}, cardinality(new_ids), count(*) FILTER (WHERE counted.n = per.n)
      FROM counted JOIN per ON per.from_msisdn = counted.from_msisdn
    ON CONFLICT (stripe) DO UPDATE SET total = t.total + excluded.total, senders = t.senders + excluded.senders;
    PERFORM pg_notify(p_channel, p_payload || ':' || out_seqs[1] || ':' || out_seqs[cardinality(out_seqs)]);
    RETURN QUERY SELECT * FROM unnest(out_ids, out_seqs);
  END $$`;

export const MIGRATIONS: readonly (readonly string[])[] = [
  [
    `CREATE TABLE messages (
       message_id text COLLATE "C" PRIMARY KEY,
       from_msisdn text COLLATE "C" NOT NULL,
       to_msisdn text COLLATE "C" NOT NULL,
       ts text COLLATE "C" NOT NULL,
       text text COLLATE "C",
       created_at timestamptz NOT NULL,
       ts_key text COLLATE "C" NOT NULL,
       text_fold text COLLATE "C"
     )`,
    'CREATE INDEX messages_ts_key_idx ON messages (ts_key, message_id)',
    'CREATE INDEX messages_from_ts_key_idx ON messages (from_msisdn, ts_key, message_id)',
    'CREATE SEQUENCE arrival_seq AS bigint',
    `CREATE TABLE arrivals (
       seq bigint PRIMARY KEY,
       message_id text COLLATE "C" NOT NULL
     )`,
    'CREATE INDEX arrivals_message_id_idx ON arrivals (message_id)',
    'CREATE TABLE sender_counts (from_msisdn text COLLATE "C" PRIMARY KEY, n bigint NOT NULL)',
    'CREATE INDEX sender_counts_top_idx ON sender_counts (n DESC, from_msisdn)',
    'CREATE TABLE message_totals (stripe integer PRIMARY KEY, total bigint NOT NULL, senders bigint NOT NULL)',
    'CREATE TABLE service_keys (name text PRIMARY KEY, key bytea NOT NULL)',
    'CREATE TABLE write_probe (id bigserial PRIMARY KEY, data text NOT NULL)',
    // Rows deleted behind the service's back: counts down, their arrivals go (a later message with
    // the same id gets a new seq, and an old seq must not find it).
    `CREATE FUNCTION webhook_api_messages_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
     DECLARE gone_senders bigint;
     BEGIN
       WITH counted AS (SELECT from_msisdn, count(*) AS n FROM gone GROUP BY from_msisdn),
            updated AS (UPDATE sender_counts s SET n = s.n - c.n FROM counted c WHERE s.from_msisdn = c.from_msisdn RETURNING s.from_msisdn, s.n)
       SELECT count(*) FILTER (WHERE n <= 0) INTO gone_senders FROM updated;
       DELETE FROM sender_counts WHERE n <= 0;
       INSERT INTO message_totals AS t (stripe, total, senders)
         VALUES (pg_backend_pid() % ${STRIPES}, -(SELECT count(*) FROM gone), -gone_senders)
         ON CONFLICT (stripe) DO UPDATE SET total = t.total + excluded.total, senders = t.senders + excluded.senders;
       DELETE FROM arrivals a USING gone g WHERE a.message_id = g.message_id;
       RETURN NULL;
     END $$`,
    `CREATE TRIGGER messages_counts_ad AFTER DELETE ON messages
       REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION webhook_api_messages_deleted()`,
    // A row whose sender or id is changed by hand: the same, one row at a time (rare).
    `CREATE FUNCTION webhook_api_messages_changed() RETURNS trigger LANGUAGE plpgsql AS $$
     DECLARE delta bigint := 0;
     BEGIN
       IF OLD.from_msisdn IS DISTINCT FROM NEW.from_msisdn THEN
         UPDATE sender_counts SET n = n - 1 WHERE from_msisdn = OLD.from_msisdn;
         IF FOUND AND (SELECT n FROM sender_counts WHERE from_msisdn = OLD.from_msisdn) <= 0 THEN
           DELETE FROM sender_counts WHERE from_msisdn = OLD.from_msisdn;
           delta := delta - 1;
         END IF;
         INSERT INTO sender_counts AS s (from_msisdn, n) VALUES (NEW.from_msisdn, 1)
           ON CONFLICT (from_msisdn) DO UPDATE SET n = s.n + 1;
         IF (SELECT n FROM sender_counts WHERE from_msisdn = NEW.from_msisdn) = 1 THEN delta := delta + 1; END IF;
         INSERT INTO message_totals AS t (stripe, total, senders) VALUES (pg_backend_pid() % ${STRIPES}, 0, delta)
           ON CONFLICT (stripe) DO UPDATE SET senders = t.senders + excluded.senders;
       END IF;
       IF OLD.message_id IS DISTINCT FROM NEW.message_id THEN
         UPDATE arrivals SET message_id = NEW.message_id WHERE message_id = OLD.message_id;
       END IF;
       RETURN NULL;
     END $$`,
    `CREATE TRIGGER messages_counts_au AFTER UPDATE OF from_msisdn, message_id ON messages
       FOR EACH ROW EXECUTE FUNCTION webhook_api_messages_changed()`,
    STORE_FUNCTION,
  ],
  // 2: pg_trgm, whose GIN index on text_fold serves q's LIKE (search-index.ts builds it after start-up,
  //    CONCURRENTLY, so neither start-up nor ingest waits for it). It is a trusted extension (13+): a
  //    role with CREATE on the database may install it. Where it is missing or not allowed, q stays a
  //    scan, as before, and the service says so in its log at start.
  [
    `DO $$ BEGIN
       CREATE EXTENSION IF NOT EXISTS pg_trgm;
     EXCEPTION WHEN OTHERS THEN
       RAISE NOTICE 'pg_trgm is not available (%): q is answered by a scan', SQLERRM;
     END $$`,
  ],
];

export const SCHEMA_VERSION = MIGRATIONS.length;
