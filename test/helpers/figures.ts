// Reliability figures: printed as one JSON line in the test output (a diagnostic) so RELIABILITY.md
// can quote them, and written to <tmpdir>/webhook-reliability/<name>.json for collecting.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Diagnostic = { diagnostic(message: string): void };

export const FIGURES_DIR = join(tmpdir(), 'webhook-reliability');

export function reportFigures(t: Diagnostic, name: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ figures: name, ...figures });
  t.diagnostic(line);
  try {
    mkdirSync(FIGURES_DIR, { recursive: true });
    writeFileSync(join(FIGURES_DIR, `${name}.json`), `${line}\n`);
  } catch {
    // the diagnostic line is the record; the file is a convenience
  }
}
