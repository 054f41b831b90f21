// Container health check for images without a shell or curl (distroless):
// `node dist/healthcheck.js` exits 0 when /health/ready answers 200, else 1.
import { request } from 'node:http';
import { loadConfig } from './config.ts';

const loaded = loadConfig(process.env);
const port = loaded.ok ? loaded.config.port : 8000;
const host = loaded.ok && loaded.config.host !== '0.0.0.0' && loaded.config.host !== '::' ? loaded.config.host : '127.0.0.1';

const req = request({ host, port, path: '/health/ready', method: 'GET', timeout: 3_000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
req.end();
