// Unauthenticated slow bodies cannot starve signed deliveries. 10,000 connections (fewer only if the
// open-files limit cannot be raised) each start a POST /webhook body without knowing the secret:
// 9,000 send one byte and stall, 1,000 drip a byte every 250 ms. Meanwhile newcomers' signed
// deliveries (small, and large ones that arrive in two packets) and /health/live must be answered
// 200 promptly (test/helpers/probes.ts). Connections the service closes (a stalled upload cut to
// make room, the 10 s request timeout) are replaced, at most 500 a second, so the flood goes on. The service runs as the image runs it (test/helpers/image-service.ts),
// with its production limits, and its peak RSS must stay under the manifests' memory limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { raiseFdLimit } from '../helpers/fd-limit.ts';
import { reportFigures } from '../helpers/figures.ts';
import { metricValue } from '../helpers/metrics.ts';
import { assertServedPromptly, summarize, type Probe } from '../helpers/probes.ts';
import { converse } from '../helpers/raw-conversation.ts';
import { buildDist, startImageService } from '../helpers/image-service.ts';
import { message, SECRET, signBody, tempDir } from '../helpers/service.ts';

const WANTED = 10_000;
const SPARE_FDS = 1_000;
const BATCH = 1_000;
const RENEW_PER_SECOND = 500;

function open(port: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => resolve(null));
  });
}

async function probe(port: number, what: string, parts: string[]): Promise<Probe> {
  const started = performance.now();
  const got = await converse(port, parts, { gapMs: 20, timeoutMs: 5_000 });
  return { what, status: got.responses[0]?.status ?? 0, ms: Math.round(performance.now() - started) };
}

function signedParts(id: string, padding: number): string[] {
  const body = JSON.stringify(message({ message_id: id, ...(padding > 0 && { pad: 'p'.repeat(padding) }) }));
  const head = `POST /webhook HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nX-Signature: ${signBody(body)}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  // A large body arrives in two packets, so it needs a place at the body gate. The first is what a
  // sender's first round trip carries (TCP's initial window, 10 segments of 1,460 bytes): with only
  // a few bytes in it, this test's own event loop, busy with 10,000 sockets, could delay the second
  // long enough for the probe to look like a dripping upload (under 16 KiB/s past 100 ms).
  const first = 14_600 - Buffer.byteLength(head);
  return padding > 0 ? [head + body.slice(0, first), body.slice(first)] : [head + body];
}

test('10,000 stalled and dripping uploads leave signed deliveries and /health/live answered 200 promptly', { timeout: 180_000 }, async (t) => {
  const limits = raiseFdLimit(WANTED + SPARE_FDS);
  const allowed = Math.min(limits.after?.soft ?? 1_024, limits.after?.hard ?? 1_024);
  const total = Math.min(WANTED, Math.max(0, allowed - SPARE_FDS));
  assert.ok(total >= 2_000, `only ${total} connections possible (${limits.how})`);
  const dripping = Math.round(total / 10);

  const entry = buildDist(t);
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { svc, settings } = await startImageService(t, entry, { WEBHOOK_SECRET: SECRET, DATABASE_URL: join(dir, 'slow.db') });

  // The flood is sustained: connections the service closes (408, the 10 s request timeout) are
  // replaced, as an attacker renews its wave, so about `total` stay open throughout.
  const sockets = new Set<Socket>();
  const drippers = new Set<Socket>();
  let closedStalled = 0;
  let closedDripping = 0;
  let opened = 0;
  t.after(() => sockets.forEach((s) => s.destroy()));
  const attack = async (drip: boolean): Promise<void> => {
    const socket = await open(svc.port);
    if (socket === null) return;
    opened += 1;
    socket.on('error', () => {});
    socket.on('data', () => {}); // answers (503, 408) are read and dropped
    socket.once('close', () => {
      sockets.delete(socket);
      drippers.delete(socket);
      if (drip) closedDripping += 1;
      else closedStalled += 1;
    });
    sockets.add(socket);
    if (drip) drippers.add(socket);
    socket.write(`POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${drip ? 100_000 : 1_000}\r\nX-Signature: ${'a'.repeat(64)}\r\n\r\n{`);
  };
  const openedAt = performance.now();
  for (let i = 0; i < total; i += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, total - i) }, (_, j) => attack(i + j < dripping)));
  }
  const openMs = Math.round(performance.now() - openedAt);
  const dripTimer = setInterval(() => drippers.forEach((s) => s.writable && s.write('p')), 250);
  t.after(() => clearInterval(dripTimer));
  const renew = setInterval(() => {
    const drip = Math.min(closedDripping, RENEW_PER_SECOND);
    const stall = Math.min(closedStalled, RENEW_PER_SECOND - drip);
    closedDripping -= drip;
    closedStalled -= stall;
    for (let i = 0; i < drip + stall; i += 1) void attack(i < drip);
  }, 1_000);
  t.after(() => clearInterval(renew));

  // While every connection is still held: probes, each on a new connection.
  const probes: Probe[] = [];
  const heldDuringProbes: number[] = [];
  for (let round = 0; round < 12; round += 1) {
    heldDuringProbes.push(sockets.size);
    probes.push(await probe(svc.port, 'small signed delivery', signedParts(`slow-flood-small-${round}`, 0)));
    probes.push(await probe(svc.port, 'large signed delivery', signedParts(`slow-flood-large-${round}`, 60_000)));
    probes.push(await probe(svc.port, 'GET /health/live', ['GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']));
    await sleep(250);
  }
  clearInterval(dripTimer);
  clearInterval(renew);

  const metricsGot = await converse(svc.port, ['GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], { timeoutMs: 5_000 });
  const metrics = metricsGot.responses[0]?.body ?? '';
  const refused = {
    full: metricValue(metrics, 'http_unverified_bodies_refused_total{reason="full"}'),
    evicted: metricValue(metrics, 'http_unverified_bodies_refused_total{reason="evicted"}'),
    deadline: metricValue(metrics, 'http_unverified_bodies_refused_total{reason="deadline"}'),
  };
  reportFigures(t, 'slow-body-flood', {
    fd_limit_before: limits.before,
    fd_limit_after: limits.after,
    raised_with: limits.how,
    connections: total,
    stalled: total - dripping,
    dripping,
    opened_in_ms: openMs,
    held_open_during_probes: { min: Math.min(...heldDuringProbes), max: Math.max(...heldDuringProbes) },
    connections_opened: opened,
    probes: probes.length,
    newcomers: summarize(probes),
    refused,
    created: metricValue(metrics, 'webhook_requests_total{result="created"}'),
    peak_rss_mib: Math.round((svc.peakRss() ?? 0) / 1048576),
    memory_limit_mib: settings.memoryLimitMiB,
    node_args: settings.nodeArgs,
  });
  assertServedPromptly(probes);
  // Every upload was started; the service sheds stalled ones as newcomers need their places.
  assert.ok(opened >= total, `${opened} of ${total} connections opened`);
  assert.equal(metricValue(metrics, 'webhook_requests_total{result="created"}'), 24);
  assert.ok((refused.full ?? 0) > 0 && (refused.evicted ?? 0) > 0, JSON.stringify(refused));
  assert.ok((svc.peakRss() ?? 0) < settings.memoryLimitMiB * 1048576, 'within the memory limit of k8s/deployment.yaml');
});
