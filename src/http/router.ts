// A route table behind a small interface: exact paths, one handler per method, HEAD served by GET.

export type Match<H> =
  | { kind: 'found'; route: string; handler: H }
  | { kind: 'not_found' }
  | { kind: 'method_not_allowed'; route: string; allow: string };

export type Routes<H> = Readonly<Record<string, Readonly<Partial<Record<string, H>>>>>;

export type Router<H> = { match(method: string, path: string): Match<H> };

export function createRouter<H>(routes: Routes<H>): Router<H> {
  // Every answer is made once here: a lookup allocates nothing.
  const table = new Map<string, { found: ReadonlyMap<string, Match<H>>; notAllowed: Match<H> }>();
  for (const [path, methods] of Object.entries(routes)) {
    const handlers = new Map<string, H>();
    for (const [method, handler] of Object.entries(methods)) if (handler !== undefined) handlers.set(method, handler);
    if (handlers.has('GET') && !handlers.has('HEAD')) handlers.set('HEAD', handlers.get('GET') as H);
    const found = new Map<string, Match<H>>();
    for (const [method, handler] of handlers) found.set(method, Object.freeze({ kind: 'found', route: path, handler }));
    table.set(path, { found, notAllowed: Object.freeze({ kind: 'method_not_allowed', route: path, allow: [...handlers.keys()].join(', ') }) });
  }
  const notFound: Match<H> = Object.freeze({ kind: 'not_found' });
  return {
    match(method, path) {
      const entry = table.get(path);
      if (entry === undefined) return notFound;
      return entry.found.get(method) ?? entry.notAllowed;
    },
  };
}
