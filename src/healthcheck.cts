// Container health check for images without a shell or curl (distroless):
// `node dist/healthcheck.cjs` exits 0 when /health/ready answers 200, else 1. It reads only PORT and
// HOST (never the secret files), and names itself so the service does not count it in its metrics.
//
// CommonJS on purpose: Docker starts it every interval, and a CommonJS entry costs about half the
// CPU and 10 MiB less memory than an ES-module one (BENCHMARKS.md, "Container health check").
// The shared modules are ES modules, loaded with require() (Node ≥ 22.12), from src/ or dist/.
import type * as ConfigValues from './config/values.ts';
import type * as SelfCheckModule from './health/self-check.ts';

const ext = __filename.endsWith('.cts') ? '.ts' : '.js';
const { request } = require('node:http') as typeof import('node:http');
const { listenAddress } = require(`./config/values${ext}`) as typeof ConfigValues;
const { SELF_CHECK_ROUTE, SELF_CHECK_USER_AGENT } = require(`./health/self-check${ext}`) as typeof SelfCheckModule;

const { port, host } = listenAddress(process.env);
const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;

const req = request({ host: target, port, path: SELF_CHECK_ROUTE, method: 'GET', timeout: 3_000, headers: { 'User-Agent': SELF_CHECK_USER_AGENT } }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
req.end();
