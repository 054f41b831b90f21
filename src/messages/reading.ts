// What the read routes share, built once per service: the cursor codec (keyed by the store), the
// live-tail registry (MAX_STREAMS, the streams_open gauge), the cap on exports at once, and the
// registry of streamed responses that shutdown ends.
import type { Config } from '../config.ts';
import { createStreamRegistry, type StreamRegistry } from '../http/respond.ts';
import type { ServiceMetrics } from '../metrics/service-metrics.ts';
import type { Store } from '../storage/store.ts';
import { createInFlightLimit, type InFlightLimit } from '../webhook/in-flight.ts';
import { createCursorCodec, type CursorCodec } from './cursor.ts';
import { MAX_EXPORTS } from './export.ts';
import { HEARTBEAT_MS, MAX_UNREAD_BYTES } from './stream.ts';
import { createSubscribers, type Subscribers } from './subscribers.ts';

export type Reading = {
  cursors: CursorCodec;
  subscribers: Subscribers;
  exports: InFlightLimit;
  streams: StreamRegistry;
  heartbeatMs: number;
  maxUnreadBytes: number;
};

export type ReadingOptions = { heartbeatMs?: number; maxUnreadBytes?: number };

export function createReading(config: Pick<Config, 'maxStreams'>, store: Store, metrics: Pick<ServiceMetrics, 'streamsOpen'>, options: ReadingOptions = {}): Reading {
  return {
    cursors: createCursorCodec(store.cursorKey),
    subscribers: createSubscribers({ store, max: config.maxStreams, gauge: metrics.streamsOpen }),
    exports: createInFlightLimit(MAX_EXPORTS),
    streams: createStreamRegistry(),
    heartbeatMs: options.heartbeatMs ?? HEARTBEAT_MS,
    maxUnreadBytes: options.maxUnreadBytes ?? MAX_UNREAD_BYTES,
  };
}
