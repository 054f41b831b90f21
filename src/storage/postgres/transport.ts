// The socket under a connection: TCP, then TLS when sslmode asks for it, negotiated the PostgreSQL
// way (SSLRequest, one byte back). Used for every connection and for each cancel request, so both
// get the same TLS rules. https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-SSL
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { PgError } from './errors.ts';
import { sslRequest } from './wire/encode.ts';
import type { PgConnectionConfig } from './url.ts';

export type Transport = { socket: Socket; tls: boolean };

export type TransportResult = { ok: true; transport: Transport } | { ok: false; error: PgError };

export type TransportOptions = Readonly<{
  /** TCP keepalive: an idle connection to a vanished server is noticed by the kernel's probes. */
  keepAliveMs: number;
}>;

type Target = Pick<PgConnectionConfig, 'host' | 'port' | 'sslmode' | 'sslRootCert' | 'connectTimeoutMs'>;

const connectionError = (message: string, cause?: unknown): PgError => new PgError('connection', message, { cause });

/** True for errors raised by the TLS layer or certificate checks rather than by TCP. */
function isTlsFailure(error: unknown): boolean {
  const code: unknown = typeof error === 'object' && error !== null ? Reflect.get(error, 'code') : undefined;
  return typeof code === 'string' && (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /CERT|SELF_SIGNED|UNABLE_TO|HOSTNAME|ALTNAME/.test(code));
}

async function tlsOptions(target: Target, socket: Socket): Promise<{ ok: true; options: ConnectionOptions } | { ok: false; error: PgError }> {
  const options: ConnectionOptions = {
    socket,
    host: target.host,
    // SNI carries host names only; RFC 6066 forbids IP literals there (pg and postgres agree).
    ...(isIP(target.host) === 0 ? { servername: target.host } : {}),
    rejectUnauthorized: target.sslmode === 'verify-full',
    minVersion: 'TLSv1.2',
  };
  if (target.sslmode === 'verify-full' && target.sslRootCert !== null) {
    try {
      // Read on every connect, so a rotated CA bundle is picked up without a restart.
      options.ca = await readFile(target.sslRootCert);
    } catch (cause) {
      return { ok: false, error: new PgError('tls', `cannot read the root certificate file ${JSON.stringify(target.sslRootCert)}`, { cause }) };
    }
  }
  return { ok: true, options };
}

export function openTransport(target: Target, options: TransportOptions): Promise<TransportResult> {
  return new Promise((resolve) => {
    let settled = false;
    let phase: 'tcp' | 'negotiate' | 'tls' = 'tcp';
    let current: Socket = tcpConnect({ host: target.host, port: target.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: options.keepAliveMs });
    const finish = (result: TransportResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      current.removeListener('error', onError);
      current.removeListener('close', onClose);
      if (!result.ok) current.destroy();
      resolve(result);
    };
    const onError = (error: unknown): void => {
      if (phase === 'tls' && isTlsFailure(error)) finish({ ok: false, error: new PgError('tls', 'TLS negotiation failed', { cause: error }) });
      else finish({ ok: false, error: connectionError(`cannot connect to ${target.host}:${target.port}`, error) });
    };
    const onClose = (): void => finish({ ok: false, error: connectionError('the server closed the connection during connect') });
    const timer = setTimeout(() => finish({ ok: false, error: connectionError(`connect timed out after ${target.connectTimeoutMs} ms`) }), target.connectTimeoutMs);
    current.on('error', onError);
    current.on('close', onClose);
    current.once('connect', () => {
      if (target.sslmode === 'disable') return finish({ ok: true, transport: { socket: current, tls: false } });
      phase = 'negotiate';
      current.once('data', (answer: Buffer) => {
        // Anything after the one answer byte arrived before encryption started: injected by a
        // man in the middle (CVE-2021-23222). pg and postgres read only the first byte.
        if (answer.length !== 1) return finish({ ok: false, error: new PgError('protocol', 'unexpected bytes after the answer to SSLRequest') });
        if (answer[0] === 0x4e /* N */) {
          // Paused until the connection attaches its reader (which resumes it).
          current.pause();
          if (target.sslmode === 'prefer') {
            return finish({ ok: true, transport: { socket: current, tls: false } });
          }
          return finish({ ok: false, error: new PgError('tls', `the server does not accept TLS, and sslmode=${target.sslmode} requires it`) });
        }
        if (answer[0] !== 0x53 /* S */) return finish({ ok: false, error: new PgError('protocol', 'unexpected answer to SSLRequest') });
        phase = 'tls';
        void tlsOptions(target, current).then((made) => {
          if (settled) return;
          if (!made.ok) return finish(made);
          current.removeListener('error', onError);
          current.removeListener('close', onClose);
          current = tlsConnect(made.options);
          current.on('error', onError);
          current.on('close', onClose);
          current.once('secureConnect', () => finish({ ok: true, transport: { socket: current, tls: true } }));
        });
      });
      current.write(sslRequest());
    });
  });
}
