// Marks dist/ as ES modules so `node dist/main.js` runs from a folder with no package.json of its own.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

writeFileSync(join(import.meta.dirname, '..', 'dist', 'package.json'), `${JSON.stringify({ type: 'module' })}\n`);
