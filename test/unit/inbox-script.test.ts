// The inbox page's browser script: it type-checks (strict, against the DOM's types) with its own
// tsconfig, and never turns a string into markup: no innerHTML, outerHTML, insertAdjacentHTML,
// document.write, eval, Function or string timers, so message text can only ever be text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INBOX_DIR, INBOX_FILES } from '../../src/inbox/files.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const script = readFileSync(join(INBOX_DIR, INBOX_FILES.js), 'utf8');

test('the script type-checks with tsc -p src/inbox (checkJs, strict, DOM types)', { timeout: 120_000 }, () => {
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'src', 'inbox')], { encoding: 'utf8' });
  assert.equal(tsc.status, 0, `${tsc.stdout}${tsc.stderr}`);
  assert.match(script, /^\/\/ @ts-check$/m);
});

test('the script never parses a string as HTML or code', () => {
  for (const sink of [/\.innerHTML\b/, /\.outerHTML\b/, /insertAdjacentHTML/, /document\.write/, /\beval\s*\(/, /new Function\b/, /createContextualFragment/, /setTimeout\(\s*['"`]/, /setInterval\(\s*['"`]/, /DOMParser/, /srcdoc/]) {
    assert.ok(!sink.test(script), `no ${sink}`);
  }
  // Text goes in as textContent (or replaceChildren/append of strings, which make text nodes).
  assert.ok((script.match(/\.textContent = /g) ?? []).length > 10);
});

test('the script reads only this service, relative to the page: no absolute URL, no other origin', () => {
  assert.ok(!/https?:\/\//.test(script), 'no absolute URL');
  for (const m of script.matchAll(/(?:call|getJson)\(\s*['"`]([^'"`]+)/g)) assert.doesNotMatch(m[1] ?? '', /^\//, `${m[1]} is relative`);
  assert.match(script, /'Authorization', `Bearer \$\{state\.token\}`/);
  assert.match(script, /sessionStorage/);
  for (const never of [/localStorage/, /document\.cookie/, /new EventSource/]) assert.ok(!never.test(script), `no ${never}`);
});
