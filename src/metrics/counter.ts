import { formatLabels, formatValue, header, type Collectable } from './format.ts';

export type Counter = Collectable & {
  /** Adds 1 (or `by`) to the series named by one value per label, in `labelNames` order. */
  inc(values: readonly string[], by?: number): void;
  get(values: readonly string[]): number;
  /** Adds 1 to one series, found once: for a hot path that counts the same series again and again. */
  bound(values: readonly string[]): () => void;
};

export type CounterOptions = {
  name: string;
  help: string;
  labelNames: readonly string[];
  /** Series that exist from start at 0, so a rate() never sees a missing series. */
  initial?: readonly (readonly string[])[];
};

export function createCounter(options: CounterOptions): Counter {
  const labelNames = Object.freeze([...options.labelNames]);
  const series = new Map<string, { values: readonly string[]; count: number }>();
  const keyOf = (values: readonly string[]): string => values.join('\u0000');

  const inc = (values: readonly string[], by = 1): void => {
    if (values.length !== labelNames.length) throw new Error(`${options.name}: expected ${labelNames.length} label values`);
    if (!(by >= 0)) throw new Error(`${options.name}: counters only go up`);
    const key = keyOf(values);
    const found = series.get(key);
    if (found === undefined) series.set(key, { values: Object.freeze([...values]), count: by });
    else found.count += by;
  };
  for (const values of options.initial ?? []) inc(values, 0);
  const bound = (values: readonly string[]): (() => void) => {
    inc(values, 0);
    const found = series.get(keyOf(values));
    if (found === undefined) throw new Error(`${options.name}: no series`);
    return () => void (found.count += 1);
  };

  return {
    name: options.name,
    inc,
    get: (values) => series.get(keyOf(values))?.count ?? 0,
    bound,
    collect: () => [
      ...header(options.name, options.help, 'counter'),
      ...[...series.values()].map((s) => `${options.name}${formatLabels(labelNames, s.values)} ${formatValue(s.count)}`),
    ],
  };
}
