// Container health check for images without a shell or curl (distroless):
// `node dist/healthcheck.js` exits 0 when /health/ready answers 200, else 1. It reads only PORT and
// HOST (never the secret files), and names itself so the service does not count it in its metrics.
import { request } from 'node:http';
import { listenAddress } from './config.ts';
import { SELF_CHECK_ROUTE, SELF_CHECK_USER_AGENT } from './health/self-check.ts';

const { port, host } = listenAddress(process.env);
const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;

const req = request({ host: target, port, path: SELF_CHECK_ROUTE, method: 'GET', timeout: 3_000, headers: { 'User-Agent': SELF_CHECK_USER_AGENT } }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
req.end();
