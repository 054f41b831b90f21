import { formatValue, header, type Collectable } from './format.ts';

export type Histogram = Collectable & {
  observe(value: number): void;
  snapshot(): { buckets: readonly { le: number; count: number }[]; sum: number; count: number };
};

export type HistogramOptions = { name: string; help: string; buckets: readonly number[] };

/** Buckets are frozen at construction; counts are kept per bucket and made cumulative only when read. */
export function createHistogram(options: HistogramOptions): Histogram {
  const bounds = Object.freeze([...options.buckets].sort((a, b) => a - b));
  if (bounds.some((b, i) => !Number.isFinite(b) || b === bounds[i - 1])) {
    throw new Error(`${options.name}: buckets must be finite and distinct`);
  }
  const counts = new Array<number>(bounds.length + 1).fill(0);
  let sum = 0;
  let count = 0;

  const snapshot: Histogram['snapshot'] = () => {
    let running = 0;
    const buckets = bounds.map((le, i) => ({ le, count: (running += counts[i] ?? 0) }));
    buckets.push({ le: Infinity, count });
    return { buckets, sum, count };
  };

  return {
    name: options.name,
    observe(value) {
      if (!Number.isFinite(value)) return;
      let i = 0;
      while (i < bounds.length && value > (bounds[i] ?? Infinity)) i += 1;
      counts[i] = (counts[i] ?? 0) + 1;
      sum += value;
      count += 1;
    },
    snapshot,
    collect() {
      const s = snapshot();
      return [
        ...header(options.name, options.help, 'histogram'),
        ...s.buckets.map((b) => `${options.name}_bucket{le="${formatValue(b.le)}"} ${b.count}`),
        `${options.name}_sum ${formatValue(s.sum)}`,
        `${options.name}_count ${s.count}`,
      ];
    },
  };
}
