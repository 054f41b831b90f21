// Small helpers shared by the developer scripts: strict flag parsing that turns any mistake into
// a usage line and exit code 2 (the same code the service uses for bad configuration).
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

export function usageExit(usage: string, problem?: string): never {
  if (problem !== undefined) process.stderr.write(`error: ${problem}\n`);
  process.stderr.write(`usage: ${usage}\n`);
  process.exit(2);
}

export type Flags = Record<string, string | boolean | undefined>;

/** parseArgs with strict checking; unknown flags, missing values or extra positionals exit 2. */
export function parseFlags(usage: string, options: ParseArgsOptionsConfig, maxPositionals: number): { flags: Flags; positionals: string[] } {
  try {
    const parsed = parseArgs({ args: process.argv.slice(2), options, strict: true, allowPositionals: maxPositionals > 0 });
    if (parsed.positionals.length > maxPositionals) usageExit(usage, `unexpected argument "${parsed.positionals[maxPositionals]}"`);
    const flags: Flags = {};
    for (const [name, value] of Object.entries(parsed.values)) {
      if (typeof value === 'string' || typeof value === 'boolean') flags[name] = value;
    }
    return { flags, positionals: parsed.positionals };
  } catch (err) {
    return usageExit(usage, err instanceof Error ? err.message : String(err));
  }
}

export function stringFlag(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}

/** A positive number flag (integers only unless `fractional`), or the default; anything else exits 2. */
export function numberFlag(usage: string, flags: Flags, name: string, fallback: number, fractional = false): number {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  const pattern = fractional ? /^[0-9]+(\.[0-9]+)?$/ : /^[0-9]+$/;
  if (!pattern.test(raw.trim()) || !Number.isFinite(value) || value <= 0) {
    usageExit(usage, `--${name} must be a positive ${fractional ? 'number' : 'whole number'}, got "${raw}"`);
  }
  return value;
}

/** The HMAC key: --secret wins over the variable (WEBHOOK_SECRET); neither (or empty) exits 2. Never echoed. */
export function secretFrom(usage: string, flags: Flags, variable = 'WEBHOOK_SECRET'): string {
  const secret = stringFlag(flags, 'secret') ?? process.env[variable];
  if (secret === undefined || secret === '') usageExit(usage, `no secret: set ${variable} or pass --secret`);
  return secret;
}
