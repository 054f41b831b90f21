// Process and runtime metrics beside the service's own, named as Prometheus client libraries name
// them by default (https://prometheus.io/docs/instrumenting/writing_clientlibs/#process-metrics,
// and prom-client's nodejs_eventloop_lag_*), so existing dashboards and alerts work unchanged.
import { formatValue, header, type Collectable } from './format.ts';
import { createSampled } from './sampled.ts';

/** The part of perf_hooks' IntervalHistogram used here; values are nanoseconds. */
export type EventLoopDelayMonitor = {
  enable(): boolean;
  disable(): boolean;
  reset(): void;
  readonly count: number;
  readonly mean: number;
  readonly max: number;
  percentile(percentile: number): number;
};

/** What these metrics read from the running process; tests pass fakes. */
export type ProcessReaders = {
  /** Unix time the process started, in seconds. */
  startTimeSeconds(): number;
  residentMemoryBytes(): number;
  /** CPU time used so far, in microseconds, as process.cpuUsage() reports it. */
  cpuUsage(): { user: number; system: number };
  /** A new, not yet enabled, event-loop delay monitor that samples every `eventLoopResolutionMs`. */
  eventLoopDelay(): EventLoopDelayMonitor;
  eventLoopResolutionMs: number;
};

export type ProcessMetrics = {
  readonly collectables: readonly Collectable[];
  /** Starts the event-loop delay monitor (the only thing here that runs between scrapes). */
  start(): void;
  stop(): void;
};

const NS_PER_S = 1e9;
const US_PER_S = 1e6;

type Lag = { mean: number; p99: number; max: number };

export function createProcessMetrics(readers: ProcessReaders): ProcessMetrics {
  let monitor: EventLoopDelayMonitor | undefined;
  // The delay seen between the previous scrape and this one; kept when no timer fired in between.
  let lag: Lag = { mean: 0, p99: 0, max: 0 };

  // The monitor records the time between its timer's runs, which includes the timer's own period;
  // only what exceeds that period is delay.
  const resolutionS = readers.eventLoopResolutionMs / 1000;
  const delay = (ns: number): number => Math.max(0, ns / NS_PER_S - resolutionS);

  const eventLoopLag: Collectable = {
    name: 'nodejs_eventloop_lag',
    collect() {
      if (monitor !== undefined && monitor.count > 0) {
        lag = { mean: delay(monitor.mean), p99: delay(monitor.percentile(99)), max: delay(monitor.max) };
        monitor.reset();
      }
      const gauge = (name: string, help: string, value: number): string[] => [...header(name, help, 'gauge'), `${name} ${formatValue(value)}`];
      return [
        ...gauge('nodejs_eventloop_lag_seconds', 'Mean event loop delay since the previous scrape, in seconds.', lag.mean),
        ...gauge('nodejs_eventloop_lag_p99_seconds', '99th percentile of the event loop delay since the previous scrape, in seconds.', lag.p99),
        ...gauge('nodejs_eventloop_lag_max_seconds', 'Longest event loop delay since the previous scrape, in seconds.', lag.max),
      ];
    },
  };

  const cpu = (pick: (u: { user: number; system: number }) => number) => (): number => pick(readers.cpuUsage()) / US_PER_S;
  const collectables: Collectable[] = [
    createSampled({ name: 'process_cpu_user_seconds_total', help: 'User CPU time spent, in seconds.', type: 'counter', read: cpu((u) => u.user) }),
    createSampled({ name: 'process_cpu_system_seconds_total', help: 'System CPU time spent, in seconds.', type: 'counter', read: cpu((u) => u.system) }),
    createSampled({ name: 'process_cpu_seconds_total', help: 'User and system CPU time spent, in seconds.', type: 'counter', read: cpu((u) => u.user + u.system) }),
    createSampled({ name: 'process_start_time_seconds', help: 'Start time of the process since the Unix epoch, in seconds.', type: 'gauge', read: () => readers.startTimeSeconds() }),
    createSampled({ name: 'process_resident_memory_bytes', help: 'Resident memory size, in bytes.', type: 'gauge', read: () => readers.residentMemoryBytes() }),
    eventLoopLag,
  ];

  return {
    collectables,
    start() {
      if (monitor !== undefined) return;
      monitor = readers.eventLoopDelay();
      monitor.enable();
    },
    stop() {
      monitor?.disable();
      monitor = undefined;
    },
  };
}
