// Numbers and tables for the bench output.

export type Latency = { n: number; p50: number | null; p99: number | null; mean: number | null };

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Nearest-rank percentiles of latencies in ms. */
export function latency(values: readonly number[]): Latency {
  if (values.length === 0) return { n: 0, p50: null, p99: null, mean: null };
  const sorted = Float64Array.from(values).sort();
  const at = (p: number): number => round(sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN);
  return { n: sorted.length, p50: at(50), p99: at(99), mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length) };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

export const fmt = (n: number | null | undefined, digits = 2): string => (n === null || n === undefined || Number.isNaN(n) ? '-' : String(round(n, digits)));

export const mib = (kib: number | null | undefined): string => (kib === null || kib === undefined ? 'n/a' : `${(kib / 1024).toFixed(1)} MiB`);

/** A plain text table: first column left-aligned, the rest right-aligned. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}
