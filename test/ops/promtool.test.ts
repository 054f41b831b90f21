// deploy/prometheus/ as Prometheus itself reads it: promtool checks the config (which loads the rule
// files through their relative paths), the rules, and runs the rules' unit tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { haveTool } from '../helpers/tools.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = join(root, 'deploy', 'prometheus');

function promtool(...args: string[]): { status: number | null; output: string } {
  // From another working directory, so relative paths must resolve against the files themselves.
  const run = spawnSync('promtool', args, { cwd: '/', encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.error, undefined);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const ruleFiles = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.rules.yml')).map((f) => join(dir, f));

test('promtool check rules: every rule file is valid', (t) => {
  if (!haveTool(t, 'promtool')) return;
  const files = ruleFiles();
  assert.ok(files.length >= 1);
  const { status, output } = promtool('check', 'rules', ...files);
  assert.equal(status, 0, output);
  assert.match(output, /SUCCESS: 9 rules found/);
  assert.doesNotMatch(output, /WARNING|FAILED/i);
});

test('promtool check config: prometheus.yml is valid and finds its rule files from any working directory', (t) => {
  if (!haveTool(t, 'promtool')) return;
  const { status, output } = promtool('check', 'config', join(dir, 'prometheus.yml'));
  assert.equal(status, 0, output);
  assert.match(output, /SUCCESS: 1 rule files found/);
  assert.match(output, /is valid prometheus config file syntax/);
  for (const file of ruleFiles()) assert.ok(output.includes(`Checking ${file}`), `${file} is loaded by the config`);
  assert.doesNotMatch(output, /WARNING|FAILED/i);
});

test('promtool test rules: each alert fires on the series it is for, with its annotations', (t) => {
  if (!haveTool(t, 'promtool')) return;
  const tests = readdirSync(join(dir, 'tests')).filter((f) => f.endsWith('.test.yml')).map((f) => join(dir, 'tests', f));
  assert.ok(tests.length >= 1);
  const { status, output } = promtool('test', 'rules', ...tests);
  assert.equal(status, 0, output);
  assert.match(output, /SUCCESS/);
});
