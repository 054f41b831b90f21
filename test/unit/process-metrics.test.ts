// Process metrics, the settable gauge and the /metrics handler, with the process and the store faked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGauge } from '../../src/metrics/gauge.ts';
import { scrapeMetrics } from '../../src/metrics/handler.ts';
import { createProcessMetrics, type EventLoopDelayMonitor, type ProcessReaders } from '../../src/metrics/process-metrics.ts';
import { systemProcessReaders } from '../../src/metrics/process-readers.ts';
import { renderMetrics } from '../../src/metrics/registry.ts';
import { createSampled } from '../../src/metrics/sampled.ts';
import { createServiceMetrics } from '../../src/metrics/service-metrics.ts';
import type { Stats, Store } from '../../src/storage/store.ts';

type FakeMonitor = EventLoopDelayMonitor & { enabled: boolean; samples: number[] };

function fakeMonitor(): FakeMonitor {
  const m: FakeMonitor = {
    enabled: false,
    samples: [],
    enable: () => ((m.enabled = true), true),
    disable: () => ((m.enabled = false), true),
    reset: () => void (m.samples = []),
    get count() {
      return m.samples.length;
    },
    get mean() {
      return m.samples.reduce((a, b) => a + b, 0) / m.samples.length;
    },
    get max() {
      return Math.max(...m.samples);
    },
    percentile: (p) => [...m.samples].sort((a, b) => a - b)[Math.ceil((p / 100) * m.samples.length) - 1] ?? 0,
  };
  return m;
}

function fakeReaders(): ProcessReaders & { monitors: FakeMonitor[]; cpu: { user: number; system: number } } {
  const monitors: FakeMonitor[] = [];
  const readers = {
    monitors,
    cpu: { user: 1_500_000, system: 250_000 },
    startTimeSeconds: () => 1_700_000_000.5,
    residentMemoryBytes: () => 64 * 1024 * 1024,
    cpuUsage: () => readers.cpu,
    eventLoopDelay: () => {
      const m = fakeMonitor();
      monitors.push(m);
      return m;
    },
    eventLoopResolutionMs: 10,
  };
  return readers;
}

const sample = (text: string, name: string): string | undefined => text.split('\n').find((l) => l.startsWith(`${name} `))?.slice(name.length + 1);

test('a gauge renders its value, and only HELP and TYPE when cleared or never set', () => {
  const g = createGauge({ name: 'things', help: 'Things.' });
  assert.deepEqual(g.collect(), ['# HELP things Things.', '# TYPE things gauge']);
  g.set(3);
  g.set(2);
  assert.equal(g.get(), 2);
  assert.deepEqual(g.collect(), ['# HELP things Things.', '# TYPE things gauge', 'things 2']);
  g.clear();
  assert.equal(g.get(), undefined);
  assert.deepEqual(g.collect(), ['# HELP things Things.', '# TYPE things gauge']);
});

test('a sampled metric reads its value at every scrape', () => {
  let v = 1;
  const s = createSampled({ name: 'x_total', help: 'X.', type: 'counter', read: () => v });
  assert.deepEqual(s.collect(), ['# HELP x_total X.', '# TYPE x_total counter', 'x_total 1']);
  v = 2.5;
  assert.equal(s.collect()[2], 'x_total 2.5');
});

test('process metrics: start time, memory and CPU come from the readers, in Prometheus units', () => {
  const readers = fakeReaders();
  const text = renderMetrics(createProcessMetrics(readers).collectables);
  assert.match(text, /^# TYPE process_start_time_seconds gauge$/m);
  assert.match(text, /^# TYPE process_resident_memory_bytes gauge$/m);
  assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
  assert.equal(sample(text, 'process_start_time_seconds'), '1700000000.5');
  assert.equal(sample(text, 'process_resident_memory_bytes'), String(64 * 1024 * 1024));
  assert.equal(sample(text, 'process_cpu_user_seconds_total'), '1.5');
  assert.equal(sample(text, 'process_cpu_system_seconds_total'), '0.25');
  assert.equal(sample(text, 'process_cpu_seconds_total'), '1.75');
  readers.cpu = { user: 2_000_000, system: 500_000 };
  assert.equal(sample(renderMetrics(createProcessMetrics(readers).collectables), 'process_cpu_seconds_total'), '2.5');
});

test('event loop lag: nothing runs until start(); stop() disables the monitor', () => {
  const readers = fakeReaders();
  const pm = createProcessMetrics(readers);
  assert.equal(readers.monitors.length, 0, 'no monitor at construction');
  assert.equal(sample(renderMetrics(pm.collectables), 'nodejs_eventloop_lag_seconds'), '0');
  pm.start();
  pm.start();
  assert.equal(readers.monitors.length, 1, 'start() is idempotent');
  assert.equal(readers.monitors[0]?.enabled, true);
  pm.stop();
  assert.equal(readers.monitors[0]?.enabled, false);
});

test('event loop lag: the delay beyond the sampling period since the previous scrape, kept when nothing was sampled', () => {
  const readers = fakeReaders();
  const pm = createProcessMetrics(readers);
  pm.start();
  const monitor = readers.monitors[0];
  assert.ok(monitor);
  // Timer runs 10 ms apart are no delay; one 110 ms apart is 100 ms of delay.
  monitor.samples.push(10e6, 10e6, 10e6, 110e6);
  const first = renderMetrics(pm.collectables);
  assert.equal(Number(sample(first, 'nodejs_eventloop_lag_seconds')), 0.025);
  assert.equal(Number(sample(first, 'nodejs_eventloop_lag_max_seconds')), 0.1);
  assert.equal(Number(sample(first, 'nodejs_eventloop_lag_p99_seconds')), 0.1);
  assert.equal(monitor.count, 0, 'the window restarts at each scrape');
  assert.equal(sample(renderMetrics(pm.collectables), 'nodejs_eventloop_lag_max_seconds'), '0.1', 'no sample since: last value kept');
  monitor.samples.push(5e6);
  assert.equal(sample(renderMetrics(pm.collectables), 'nodejs_eventloop_lag_max_seconds'), '0', 'never negative');
});

test('the system readers read this process', () => {
  const readers = systemProcessReaders();
  const start = readers.startTimeSeconds();
  assert.ok(start <= Date.now() / 1000 && start > Date.now() / 1000 - 3600, `start ${start}`);
  assert.ok(readers.residentMemoryBytes() > 1024 * 1024);
  const cpu = readers.cpuUsage();
  assert.ok(cpu.user > 0 && cpu.system >= 0);
  const monitor = readers.eventLoopDelay();
  assert.equal(monitor.enable(), true);
  assert.equal(monitor.disable(), true);
});

const stats = (total: number): Stats => ({ total_messages: total, senders_count: 0, messages_per_sender: [], first_message_ts: null, last_message_ts: null });

test('/metrics sets messages_stored from the store at scrape time', async () => {
  const metrics = createServiceMetrics(fakeReaders());
  let total = 7;
  const store: Pick<Store, 'stats'> = { stats: async () => ({ ok: true, stats: stats(total) }) };
  const reply = await scrapeMetrics({ store, metrics });
  assert.equal(reply.kind, 'text');
  assert.equal(reply.status, 200);
  assert.equal(reply.kind === 'text' && reply.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal(reply.kind === 'text' && sample(reply.body, 'messages_stored'), '7');
  total = 8;
  const again = await scrapeMetrics({ store, metrics });
  assert.equal(again.kind === 'text' && sample(again.body, 'messages_stored'), '8');
});

test('/metrics still renders everything else when the store fails or throws, without a stale count', async () => {
  const metrics = createServiceMetrics(fakeReaders());
  await scrapeMetrics({ store: { stats: async () => ({ ok: true, stats: stats(5) }) }, metrics });
  for (const store of [
    { stats: async () => ({ ok: false as const, error: new Error('disk I/O error') }) },
    {
      stats: async () => {
        throw new Error('worker gone');
      },
    },
  ]) {
    const reply = await scrapeMetrics({ store, metrics });
    assert.ok(reply.kind === 'text');
    assert.equal(reply.status, 200);
    assert.equal(sample(reply.body, 'messages_stored'), undefined);
    assert.match(reply.body, /^# TYPE messages_stored gauge$/m);
    assert.match(reply.body, /^webhook_requests_total\{result="created"\} 0$/m);
    assert.match(reply.body, /^process_resident_memory_bytes \d+$/m);
  }
});
