import { formatValue, header, type Collectable } from './format.ts';

export type Gauge = Collectable & {
  set(value: number): void;
  /** Drops the sample (the value is unknown): only HELP and TYPE are rendered until the next set(). */
  clear(): void;
  get(): number | undefined;
};

export type GaugeOptions = { name: string; help: string };

/** An unlabelled gauge whose owner sets it, e.g. just before a scrape is rendered. */
export function createGauge(options: GaugeOptions): Gauge {
  let value: number | undefined;
  return {
    name: options.name,
    set(next) {
      value = next;
    },
    clear() {
      value = undefined;
    },
    get: () => value,
    collect: () => [...header(options.name, options.help, 'gauge'), ...(value === undefined ? [] : [`${options.name} ${formatValue(value)}`])],
  };
}
