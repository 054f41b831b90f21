import { formatValue, header, type Collectable } from './format.ts';

export type SampledOptions = {
  name: string;
  help: string;
  /** `counter` for values that only go up (CPU time), `gauge` otherwise. */
  type: 'counter' | 'gauge';
  read: () => number;
};

/** One unlabelled sample read at scrape time, for values that something else keeps (the process, the runtime). */
export function createSampled(options: SampledOptions): Collectable {
  return {
    name: options.name,
    collect: () => [...header(options.name, options.help, options.type), `${options.name} ${formatValue(options.read())}`],
  };
}
