import { test } from 'node:test';
import assert from 'node:assert/strict';
import { at, parseYaml, parseYamlDocuments } from '../helpers/yaml-subset.ts';

test('mappings, sequences (also compact under a key), scalars and comments', () => {
  const doc = parseYaml(['a: 1 # comment', 'b:', '- x: "q # kept"', '  y: [1, \'two\', "3"]', '-   - n1', '    - n2', '- plain: a: b', 'c: true', 'd:', 'e: {}', 'f: ~', 'g: sqlite:////data/app.db', 'h: "8000:8000"'].join('\n'));
  assert.deepEqual(doc, {
    a: 1,
    b: [{ x: 'q # kept', y: [1, 'two', '3'] }, ['n1', 'n2'], { plain: 'a: b' }],
    c: true,
    d: null,
    e: {},
    f: null,
    g: 'sqlite:////data/app.db',
    h: '8000:8000',
  });
});

test('nested block mappings and sequences of mappings', () => {
  const doc = parseYaml(['spec:', '  containers:', '    - name: api', '      ports:', '        - containerPort: 8000', '  replicas: 1'].join('\n'));
  assert.equal(at(doc, 'spec', 'containers', 0, 'ports', 0, 'containerPort'), 8000);
  assert.equal(at(doc, 'spec', 'replicas'), 1);
  assert.throws(() => at(doc, 'spec', 'nope'), /no spec\.nope/);
});

test('literal and folded block scalars keep their text, comments included', () => {
  const doc = parseYaml(['expr: |', '  sum(x) # not a comment', '    > 1', 'next: >-', '  one', '  two', 'last: z'].join('\n'));
  assert.deepEqual(doc, { expr: 'sum(x) # not a comment\n  > 1\n', next: 'one two', last: 'z' });
});

test('documents split on ---', () => {
  assert.deepEqual(parseYamlDocuments('a: 1\n---\nb: 2\n---\n'), [{ a: 1 }, { b: 2 }]);
});

test('what the subset does not read is refused, not misread', () => {
  assert.throws(() => parseYaml('a: &anchor 1'), /unsupported/);
  assert.throws(() => parseYaml('a: {b: 1}'), /unsupported/);
  assert.throws(() => parseYaml('a: 1\na: 2'), /duplicate key/);
  assert.throws(() => parseYaml('a:\n\t- b'), /tab/);
  assert.throws(() => parseYaml('a: 1\n  b: 2'), /indentation|expected/);
  assert.throws(() => parseYaml('a: [1, [2]]'), /nested/);
});
