// The inbox page's static files (SPEC "The inbox page"): they sit beside this module in src/inbox/,
// and the build copies them beside its compiled form in dist/inbox/ (scripts/finish-build.ts), so
// the same relative path finds them whether the service runs from source or from the build.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const INBOX_FILES = { page: 'inbox.html', css: 'inbox.css', js: 'inbox.js', icon: 'icon.svg' } as const;

/** Where the files are at run time: this module's own folder. */
export const INBOX_DIR = import.meta.dirname;

/** Copies the files from `from` (src/inbox) to `to` (dist/inbox); the build's one extra step. */
export function copyInboxFiles(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of Object.values(INBOX_FILES)) copyFileSync(join(from, name), join(to, name));
}
