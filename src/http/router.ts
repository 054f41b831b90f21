// A route table behind a small interface: exact paths, one handler per method, HEAD served by GET.

export type Match<H> =
  | { kind: 'found'; route: string; handler: H }
  | { kind: 'not_found' }
  | { kind: 'method_not_allowed'; route: string; allow: string };

export type Routes<H> = Readonly<Record<string, Readonly<Partial<Record<string, H>>>>>;

export type Router<H> = { match(method: string, path: string): Match<H> };

export function createRouter<H>(routes: Routes<H>): Router<H> {
  const table = new Map<string, { handlers: ReadonlyMap<string, H>; allow: string }>();
  for (const [path, methods] of Object.entries(routes)) {
    const handlers = new Map<string, H>();
    for (const [method, handler] of Object.entries(methods)) if (handler !== undefined) handlers.set(method, handler);
    if (handlers.has('GET') && !handlers.has('HEAD')) handlers.set('HEAD', handlers.get('GET') as H);
    table.set(path, { handlers, allow: [...handlers.keys()].join(', ') });
  }
  return {
    match(method, path) {
      const entry = table.get(path);
      if (entry === undefined) return { kind: 'not_found' };
      const handler = entry.handlers.get(method);
      return handler === undefined
        ? { kind: 'method_not_allowed', route: path, allow: entry.allow }
        : { kind: 'found', route: path, handler };
    },
  };
}
