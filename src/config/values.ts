// What the config modules share: the environment's shape, a parse result, how a variable is read;
// and PORT/HOST alone, for the container health check (which loads this module and nothing else).

export type Env = Readonly<Record<string, string | undefined>>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Empty values count as unset: `FOO=` in a compose file usually means "use the default". */
export function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}


export function parseInteger(name: string, raw: string, min: number, max: number): Parsed<number> {
  const value = Number(raw.trim());
  if (!/^\s*[0-9]+\s*$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    return { ok: false, problem: `${name}: must be a whole number from ${min} to ${max}` };
  }
  return { ok: true, value };
}

/** PORT and HOST alone, parsed as loadConfig does: the container health check reads nothing else (no secret files). */
export function listenAddress(env: Env): { port: number; host: string } {
  const port = read(env, 'PORT');
  const parsed = port === undefined ? undefined : parseInteger('PORT', port, 0, 65535);
  return { port: parsed?.ok === true ? parsed.value : 8000, host: read(env, 'HOST')?.trim() ?? '0.0.0.0' };
}
