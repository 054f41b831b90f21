// Marks dist/ as ES modules so `node dist/main.js` runs from a folder with no package.json of its own,
// and copies the inbox page's files beside their compiled handler (src/inbox → dist/inbox).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyInboxFiles } from '../src/inbox/files.ts';

const root = join(import.meta.dirname, '..');
writeFileSync(join(root, 'dist', 'package.json'), `${JSON.stringify({ type: 'module' })}\n`);
copyInboxFiles(join(root, 'src', 'inbox'), join(root, 'dist', 'inbox'));
