// The load generator: `connections` workers, each with one request in flight at a time, over a
// keep-alive node:http Agent. Latency is measured from request start to the last response byte.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export type Kind = 'webhook_new' | 'webhook_dup' | 'messages';
export const KINDS: readonly Kind[] = ['webhook_new', 'webhook_dup', 'messages'];

export type Planned = { kind: Kind; method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string; seq?: number };

export type Recorder = {
  latencies: Record<Kind, number[]>;
  /** Non-200 outcomes by "kind status" (or "kind ECONNRESET" for transport errors). */
  errors: Map<string, number>;
};

export const newRecorder = (): Recorder => ({ latencies: { webhook_new: [], webhook_dup: [], messages: [] }, errors: new Map() });

type Outcome = { status: number | string; ms: number };

function send(agent: Agent, port: number, plan: Planned): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const headers = plan.body === undefined ? plan.headers : { ...plan.headers, 'Content-Length': String(Buffer.byteLength(plan.body)) };
    const req = request({ agent, host: '127.0.0.1', port, method: plan.method, path: plan.path, headers }, (res) => {
      res.on('data', () => {}); // the body is read (to keep the connection reusable) but not kept
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? 'error', ms: performance.now() - started }));
    });
    req.setTimeout(30_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? 'error', ms: performance.now() - started }));
    req.end(plan.body);
  });
}

export type LoadOptions = {
  port: number;
  connections: number;
  durationMs: number;
  next: () => Planned;
  /** Called with each 200 so the planner can offer duplicates of ids known to be stored. */
  onOk: (plan: Planned) => void;
  recorder: Recorder | null;
  /** Stops early (the child died, the user pressed Ctrl-C). */
  shouldStop: () => boolean;
};

export async function runLoad(options: LoadOptions): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const started = performance.now();
  const deadline = started + options.durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline && !options.shouldStop()) {
      const plan = options.next();
      const outcome = await send(agent, options.port, plan);
      if (outcome.status === 200) options.onOk(plan);
      const rec = options.recorder;
      if (rec === null) continue;
      if (outcome.status === 200) rec.latencies[plan.kind].push(outcome.ms);
      else rec.errors.set(`${plan.kind} ${outcome.status}`, (rec.errors.get(`${plan.kind} ${outcome.status}`) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  agent.destroy();
  return (performance.now() - started) / 1000;
}
