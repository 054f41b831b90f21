// Turns recorded latencies into the numbers the bench prints: per-kind rate and percentiles.
import { KINDS, type Kind, type Recorder } from './load.ts';

export type KindSummary = { ok: number; errors: number; rps: number; p50_ms: number | null; p95_ms: number | null; p99_ms: number | null; max_ms: number | null };

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return round(sorted[rank - 1] ?? NaN);
}

const round = (n: number): number => Math.round(n * 100) / 100;

function summarize(latencies: number[], errors: number, seconds: number): KindSummary {
  const sorted = Float64Array.from(latencies).sort();
  return {
    ok: sorted.length,
    errors,
    rps: round(sorted.length / seconds),
    p50_ms: percentile(sorted, 50),
    p95_ms: percentile(sorted, 95),
    p99_ms: percentile(sorted, 99),
    max_ms: sorted.length === 0 ? null : round(sorted[sorted.length - 1] ?? NaN),
  };
}

export function summarizeAll(rec: Recorder, seconds: number): Record<Kind | 'all', KindSummary> {
  const errorsOf = (kind: Kind): number => [...rec.errors].filter(([key]) => key.startsWith(`${kind} `)).reduce((sum, [, n]) => sum + n, 0);
  const of = (kind: Kind): KindSummary => summarize(rec.latencies[kind], errorsOf(kind), seconds);
  const allErrors = [...rec.errors.values()].reduce((a, b) => a + b, 0);
  const all = summarize(KINDS.flatMap((kind) => rec.latencies[kind]), allErrors, seconds);
  return { webhook_new: of('webhook_new'), webhook_dup: of('webhook_dup'), messages: of('messages'), all };
}

const LABELS: Record<Kind | 'all', string> = {
  webhook_new: 'POST /webhook (new)',
  webhook_dup: 'POST /webhook (dup)',
  messages: 'GET /messages?limit=50',
  all: 'all',
};

export function table(summary: Record<Kind | 'all', KindSummary>): string {
  const head = ['kind', 'ok', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'errors'];
  const cell = (n: number | null): string => (n === null ? '-' : String(n));
  const rows = (Object.keys(LABELS) as (Kind | 'all')[]).map((kind) => {
    const s = summary[kind];
    return [LABELS[kind], String(s.ok), s.rps.toFixed(1), cell(s.p50_ms), cell(s.p95_ms), cell(s.p99_ms), cell(s.max_ms), String(s.errors)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [fmt(head), ...rows.map(fmt)].join('\n');
}

export const mib = (kib: number | null | undefined): string => (kib === null || kib === undefined ? 'n/a' : `${(kib / 1024).toFixed(1)} MiB`);
