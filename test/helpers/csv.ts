// A strict RFC 4180 parser for tests: CRLF between records, fields either unquoted (no comma,
// quote, CR or LF) or quoted (quotes doubled inside); anything else throws. Each field says whether
// it was quoted, so an empty quoted field ("") and an empty unquoted one can be told apart.
export type CsvField = { value: string; quoted: boolean };

export function parseCsv(text: string): CsvField[][] {
  const records: CsvField[][] = [];
  let record: CsvField[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`not RFC 4180 at offset ${i}: ${why}`);
  };
  if (text === '') return records;
  for (;;) {
    let field: CsvField;
    if (text[i] === '"') {
      let value = '';
      i += 1;
      for (;;) {
        if (i >= text.length) fail('unterminated quoted field');
        const c = text[i];
        if (c === '"') {
          if (text[i + 1] === '"') {
            value += '"';
            i += 2;
          } else {
            i += 1;
            break;
          }
        } else {
          value += c;
          i += 1;
        }
      }
      field = { value, quoted: true };
    } else {
      const start = i;
      while (i < text.length && text[i] !== ',' && text[i] !== '\r') {
        if (text[i] === '"' || text[i] === '\n') fail('quote or line feed in an unquoted field');
        i += 1;
      }
      field = { value: text.slice(start, i), quoted: false };
    }
    record.push(field);
    if (text[i] === ',') {
      i += 1;
      continue;
    }
    if (text.startsWith('\r\n', i)) {
      records.push(record);
      record = [];
      i += 2;
      if (i === text.length) return records;
      continue;
    }
    if (i === text.length) fail('the last record has no CRLF');
    fail(`unexpected ${JSON.stringify(text[i])}`);
  }
}
