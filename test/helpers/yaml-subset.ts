// Reads the block-style YAML this repository writes (compose, Kubernetes, Prometheus), so tests can
// check the files against each other and the code without a YAML dependency. Supported: mappings,
// sequences (also compact under a key), plain and quoted scalars, flow sequences, `|`/`>` block
// scalars, comments, `---` documents. Anything else (anchors, flow mappings, tags) throws, so a file
// that outgrows this subset fails its test instead of being misread.

export type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };

type Line = { indent: number; text: string; raw: string; no: number };

const KEY = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'#&*!|>{[\-?][^#]*?|-[^\s#][^#]*?)\s*:(?:\s+(.*))?$/;

function stripComment(text: string): string {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quote !== null) {
      if (c === '\\' && quote === '"') i += 1;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || text[i - 1] === ' ')) return text.slice(0, i).trimEnd();
  }
  return text.trimEnd();
}

function splitFlow(inner: string, no: number): string[] {
  const items: string[] = [];
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < inner.length; i += 1) {
    const c = inner[i];
    if (quote !== null) {
      if (c === '\\' && quote === '"') i += 1;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') throw new Error(`line ${no}: nested flow collections are not supported`);
    else if (c === ',') {
      items.push(inner.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = inner.slice(start).trim();
  if (last !== '') items.push(last);
  return items;
}

export function scalar(text: string, no = 0): Yaml {
  if (text.startsWith('"')) return JSON.parse(text) as string;
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) throw new Error(`line ${no}: unterminated quote`);
    return text.slice(1, -1).replace(/''/g, "'");
  }
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) throw new Error(`line ${no}: unterminated flow sequence`);
    return splitFlow(text.slice(1, -1), no).map((item) => scalar(item, no));
  }
  if (text === '{}') return {};
  if (/^[{&*!%@`]/.test(text)) throw new Error(`line ${no}: unsupported YAML: ${text}`);
  if (text === '' || text === '~' || text === 'null') return null;
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

class Parser {
  private pos = 0;
  private readonly lines: Line[];
  constructor(lines: Line[]) {
    this.lines = lines;
  }

  private peek(): Line | undefined {
    while (this.pos < this.lines.length && this.lines[this.pos]?.text === '') this.pos += 1;
    return this.lines[this.pos];
  }

  parse(): Yaml {
    const first = this.peek();
    if (first === undefined) return null;
    const value = this.block(first.indent);
    const rest = this.peek();
    if (rest !== undefined) throw new Error(`line ${rest.no}: unexpected indentation`);
    return value;
  }

  private block(indent: number): Yaml {
    const line = this.peek();
    if (line === undefined) return null;
    return line.text === '-' || line.text.startsWith('- ') ? this.sequence(indent) : this.mapping(indent);
  }

  private sequence(indent: number): Yaml[] {
    const items: Yaml[] = [];
    for (let line = this.peek(); line !== undefined && line.indent === indent && (line.text === '-' || line.text.startsWith('- ')); line = this.peek()) {
      const rest = line.text.slice(1).trimStart();
      if (rest === '') {
        this.pos += 1;
        const next = this.peek();
        items.push(next !== undefined && next.indent > indent ? this.block(next.indent) : null);
      } else if (KEY.test(rest) || rest.startsWith('- ')) {
        // "- key: value": the item is a block starting at the column after "- ".
        const column = indent + (line.text.length - rest.length);
        this.lines[this.pos] = { ...line, indent: column, text: rest };
        items.push(this.block(column));
      } else {
        this.pos += 1;
        items.push(this.inline(rest, line));
      }
    }
    return items;
  }

  private mapping(indent: number): { [key: string]: Yaml } {
    const map: { [key: string]: Yaml } = {};
    for (let line = this.peek(); line !== undefined && line.indent === indent; line = this.peek()) {
      const m = KEY.exec(line.text);
      if (m === null) throw new Error(`line ${line.no}: expected "key: value", got ${line.text}`);
      const key = String(scalar(m[1] ?? ''));
      if (Object.hasOwn(map, key)) throw new Error(`line ${line.no}: duplicate key ${key}`);
      this.pos += 1;
      const rest = m[2] ?? '';
      if (rest !== '') {
        map[key] = this.inline(rest, line);
        continue;
      }
      const next = this.peek();
      if (next !== undefined && (next.indent > indent || (next.indent === indent && next.text.startsWith('- ')))) map[key] = this.block(next.indent);
      else map[key] = null;
    }
    return map;
  }

  private inline(text: string, line: Line): Yaml {
    if (text !== '|' && text !== '>' && text !== '|-' && text !== '>-') return scalar(text, line.no);
    // A block scalar: the raw lines indented deeper than its key, comments included.
    const body: string[] = [];
    let column = -1;
    while (this.pos < this.lines.length) {
      const next = this.lines[this.pos];
      if (next === undefined) break;
      const rawIndent = next.raw.length - next.raw.trimStart().length;
      if (next.raw.trim() !== '' && rawIndent <= line.indent) break;
      if (column === -1 && next.raw.trim() !== '') column = rawIndent;
      body.push(next.raw.slice(Math.max(column, 0)).trimEnd());
      this.pos += 1;
    }
    while (body.length > 0 && body[body.length - 1] === '') body.pop();
    const joined = text.startsWith('|') ? body.join('\n') : body.join(' ');
    return text.endsWith('-') ? joined : `${joined}\n`;
  }
}

/** Every document in the text, in order. */
export function parseYamlDocuments(text: string): Yaml[] {
  const docs: Line[][] = [[]];
  text.split('\n').forEach((raw, i) => {
    if (/^---\s*$/.test(raw)) docs.push([]);
    else {
      if (/^ *\t/.test(raw)) throw new Error(`line ${i + 1}: tab indentation`);
      const stripped = stripComment(raw);
      docs[docs.length - 1]?.push({ indent: stripped.length - stripped.trimStart().length, text: stripped.trim(), raw, no: i + 1 });
    }
  });
  return docs.filter((lines) => lines.some((l) => l.text !== '')).map((lines) => new Parser(lines).parse());
}

export function parseYaml(text: string): Yaml {
  const docs = parseYamlDocuments(text);
  if (docs.length !== 1) throw new Error(`expected one YAML document, found ${docs.length}`);
  return docs[0] ?? null;
}

/** Follows a path of keys and indexes, throwing with the path when something is missing. */
export function at(value: Yaml, ...path: (string | number)[]): Yaml {
  let current: Yaml = value;
  for (const [i, step] of path.entries()) {
    const next: Yaml | undefined =
      typeof step === 'number'
        ? Array.isArray(current) ? current[step] : undefined
        : current !== null && typeof current === 'object' && !Array.isArray(current) ? current[step] : undefined;
    if (next === undefined) throw new Error(`no ${path.slice(0, i + 1).join('.')}`);
    current = next;
  }
  return current;
}
