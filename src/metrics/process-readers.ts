// The real process behind ProcessReaders. Nothing is read or started until a metric asks.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { ProcessReaders } from './process-metrics.ts';

/** Sampling resolution of the event-loop delay monitor (Node's default). */
const EVENT_LOOP_RESOLUTION_MS = 10;

export function systemProcessReaders(): ProcessReaders {
  return {
    // timeOrigin is when this process started, fixed for its lifetime.
    startTimeSeconds: () => Math.round(performance.timeOrigin) / 1000,
    residentMemoryBytes: () => process.memoryUsage.rss(),
    cpuUsage: () => process.cpuUsage(),
    eventLoopDelay: () => monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS }),
    eventLoopResolutionMs: EVENT_LOOP_RESOLUTION_MS,
  };
}
