// The RFC 8288 Link header of a page that has more matches after it. The URL is relative (resolved
// against the request's, RFC 3986 §5), repeats the filters and the limit, and adds the cursor;
// URLSearchParams percent-encodes everything that could end the <…> (`>`, `;`, `,`, spaces).
import { lastValue, parseSender } from './filters.ts';

export function nextLink(path: string, params: URLSearchParams, limit: number, cursor: string): string {
  const out = new URLSearchParams({ limit: String(limit) });
  const from = parseSender(params);
  if (from !== null) out.set('from', from);
  for (const field of ['since', 'until', 'q', 'order']) {
    const value = lastValue(params, field);
    if (value !== undefined && value !== '') out.set(field, value);
  }
  out.set('cursor', cursor);
  return `<${path}?${out.toString()}>; rel="next"`;
}
