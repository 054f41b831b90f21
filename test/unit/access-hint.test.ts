import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseAccessHint, type AccessProbe } from '../../src/storage/sqlite/access-hint.ts';

/** A file system of `existing` paths, of which `writable` may be written, seen by uid/gid 65532. */
function probe(existing: string[], writable: string[], known = true): AccessProbe {
  const id = known ? 65532 : undefined;
  return { uid: id, gid: id, exists: (p) => existing.includes(p), writable: (p) => writable.includes(p) };
}

test('a root-owned /data (the bind-mount case) names the folder, the uid and the fixes', () => {
  const hint = databaseAccessHint('/data/app.db', probe(['/', '/data'], []));
  assert.equal(hint, 'the folder /data is not writable by uid 65532 (gid 65532), the user the service runs as: make it writable for that user, e.g. chown 65532:65532 on the host folder, a named volume, or fsGroup: 65532 in Kubernetes');
});

test('a read-only database file, and a missing folder under an unwritable parent', () => {
  assert.match(databaseAccessHint('/data/app.db', probe(['/', '/data', '/data/app.db'], ['/data'])) ?? '', /^the database file \/data\/app\.db is not writable by uid 65532/);
  assert.match(databaseAccessHint('/srv/db/app.db', probe(['/', '/srv'], [])) ?? '', /^\/srv, where the folder \/srv\/db would be created, is not writable/);
  assert.match(databaseAccessHint('/data/app.db', probe(['/', '/data'], [], false)) ?? '', /^the folder \/data is not writable by this process: make it writable for that user$/);
});

test('no hint when access is not the problem, or for :memory:', (t) => {
  assert.equal(databaseAccessHint('/data/app.db', probe(['/', '/data'], ['/data'])), undefined);
  assert.equal(databaseAccessHint('/data/app.db', probe(['/', '/data', '/data/app.db'], ['/data', '/data/app.db'])), undefined);
  assert.equal(databaseAccessHint('/a/b/c.db', probe(['/'], ['/'])), undefined, 'the folders can be created');
  assert.equal(databaseAccessHint(':memory:', probe([], [])), undefined);
  const dir = mkdtempSync(join(tmpdir(), 'hint-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(databaseAccessHint(join(dir, 'sub', 'app.db')), undefined, 'the real file system: a writable temp folder');
});
