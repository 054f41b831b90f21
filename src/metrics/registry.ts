import type { Collectable } from './format.ts';

/** Renders the given metrics, in order, as one exposition document. */
export function renderMetrics(metrics: readonly Collectable[]): string {
  return `${metrics.flatMap((m) => m.collect()).join('\n')}\n`;
}
