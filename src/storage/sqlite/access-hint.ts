// What to do when the database cannot be opened because its folder or file is not writable by the
// user the service runs as: in a container that is uid 65532, and a bind mount owned by root (or a
// Kubernetes volume without fsGroup) fails with SQLite's bare "unable to open database file".
// Checked after the failure, so a start that works costs nothing.
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export type AccessProbe = {
  uid: number | undefined;
  gid: number | undefined;
  exists(path: string): boolean;
  writable(path: string): boolean;
};

const systemProbe: AccessProbe = {
  uid: process.getuid?.(),
  gid: process.getgid?.(),
  exists: (path) => existsSync(path),
  writable: (path) => {
    try {
      accessSync(path, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  },
};

/** A sentence for the `could not start` line, or undefined when access is not the problem. */
export function databaseAccessHint(databasePath: string, probe: AccessProbe = systemProbe): string | undefined {
  if (databasePath === ':memory:') return undefined;
  const file = resolve(databasePath);
  const folder = dirname(file);
  const who = probe.uid === undefined ? 'this process' : `uid ${probe.uid} (gid ${String(probe.gid)}), the user the service runs as`;
  const fix = probe.uid === undefined ? '' : `, e.g. chown ${probe.uid}:${String(probe.gid)} on the host folder, a named volume, or fsGroup: ${String(probe.gid)} in Kubernetes`;
  if (probe.exists(file) && !probe.writable(file)) return `the database file ${file} is not writable by ${who}: make it writable for that user${fix}`;
  // SQLite writes the -wal and -shm files beside the database, and the folder is created if missing.
  let existing = folder;
  while (!probe.exists(existing) && dirname(existing) !== existing) existing = dirname(existing);
  if (probe.writable(existing)) return undefined;
  const what = existing === folder ? `the folder ${folder}` : `${existing}, where the folder ${folder} would be created,`;
  return `${what} is not writable by ${who}: make it writable for that user${fix}`;
}
