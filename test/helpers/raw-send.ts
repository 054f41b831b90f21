// Raw bytes on a fresh socket, for requests node:http would not send. Resolves with the status of
// the first response, or 0 when the server closed the connection without one.
import { connect } from 'node:net';

export type RawResult = { status: number; body: string };

export function rawSend(port: number, bytes: Buffer, options: { halfClose?: boolean; timeoutMs?: number } = {}): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let done = false;
    const finish = (result: RawResult | Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const timer = setTimeout(() => finish(new Error('no answer in time')), options.timeoutMs ?? 20_000);
    const parse = (): RawResult | undefined => {
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) return undefined;
      const head = data.subarray(0, end).toString('latin1');
      const status = Number(head.split(' ')[1]);
      const length = Number(/\r\ncontent-length: *([0-9]+)/i.exec(head)?.[1] ?? NaN);
      const body = data.subarray(end + 4);
      if (Number.isFinite(length) && body.length < length) return undefined;
      return { status, body: body.subarray(0, Number.isFinite(length) ? length : body.length).toString('utf8') };
    };
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const parsed = parse();
      if (parsed !== undefined) finish(parsed);
    });
    socket.on('error', () => {});
    socket.on('close', () => finish(parse() ?? { status: 0, body: data.toString('utf8') }));
    socket.write(bytes, () => {
      if (options.halfClose === true) socket.end();
    });
  });
}
