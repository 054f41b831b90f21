// A small HTTP client over node:http with a keep-alive pool, for load tests: it never throws, a
// connection failure is an outcome like a status.
import { Agent, request } from 'node:http';

export type Outcome = { status: number; body: string; headers: Record<string, string | string[] | undefined> } | { status: 0; error: string };

export type Pool = {
  agent: Agent;
  send(method: string, path: string, body?: string | Buffer, headers?: Record<string, string>): Promise<Outcome>;
  close(): void;
};

export function createPool(port: number, connections: number, timeoutMs = 20_000): Pool {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const send = (method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Outcome> =>
    new Promise((resolve) => {
      let done = false;
      const settle = (o: Outcome): void => {
        if (!done) {
          done = true;
          resolve(o);
        }
      };
      const req = request({ host: '127.0.0.1', port, method, path, agent, headers, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => settle({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        res.on('error', (err) => settle({ status: 0, error: (err as NodeJS.ErrnoException).code ?? err.message }));
      });
      req.on('timeout', () => req.destroy(new Error('client timeout')));
      req.on('error', (err) => settle({ status: 0, error: (err as NodeJS.ErrnoException).code ?? err.message }));
      req.end(body);
    });
  return { agent, send, close: () => agent.destroy() };
}
