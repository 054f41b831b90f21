// The startup phase after the socket is open: StartupMessage, authentication, then the server's
// ParameterStatus and BackendKeyData until the first ReadyForQuery.
// https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP
// Refused on purpose: MD5 (broken hash, and a hash-equivalent password), cleartext passwords over
// plaintext, and Kerberos/GSS/SSPI, each with its own message so an operator knows what to change.
import { PgError, classifySqlstate, serverError } from './errors.ts';
import { MECHANISM, clientFinal, clientFirst, verifyServerFinal, type ClientFirst } from './scram.ts';
import type { Secret } from './secret.ts';
import type { BackendMessage } from './wire/decode.ts';
import { passwordMessage, saslInitialResponse, saslResponse, startupMessage } from './wire/encode.ts';

export type HandshakeStep =
  | { kind: 'continue' }
  | { kind: 'send'; bytes: Buffer }
  | { kind: 'ready'; pid: number; secretKey: Buffer | null }
  | { kind: 'fail'; error: PgError };

export type HandshakeConfig = Readonly<{
  user: string;
  password: Secret | null;
  database: string;
  applicationName: string;
}>;

const AUTH = { ok: 0, kerberos: 2, cleartext: 3, md5: 5, scm: 6, gss: 7, gssContinue: 8, sspi: 9, sasl: 10, saslContinue: 11, saslFinal: 12 } as const;

const refuse = (message: string): HandshakeStep => ({ kind: 'fail', error: new PgError('auth', message) });
const broken = (message: string): HandshakeStep => ({ kind: 'fail', error: new PgError('protocol', message) });

/** Fixed session settings, so text output does not depend on the server's configuration. */
export function startupBytes(config: HandshakeConfig): Buffer {
  return startupMessage({
    user: config.user,
    database: config.database,
    application_name: config.applicationName,
    client_encoding: 'UTF8',
    DateStyle: 'ISO',
    TimeZone: 'UTC',
  });
}

export class Handshake {
  readonly #config: HandshakeConfig;
  readonly #tls: boolean;
  #state: 'auth' | 'saslContinue' | 'saslFinal' | 'awaitOk' | 'params' = 'auth';
  #scram: ClientFirst | null = null;
  #expectedSignature: Buffer | null = null;
  #pid = 0;
  #secretKey: Buffer | null = null;
  readonly parameters = new Map<string, string>();

  constructor(config: HandshakeConfig, tls: boolean) {
    this.#config = config;
    this.#tls = tls;
  }

  async handle(message: BackendMessage): Promise<HandshakeStep> {
    switch (message.type) {
      case 'authentication':
        return this.#authenticate(message.code, message.data);
      case 'error': {
        const error = serverError(message.fields);
        // Before the session exists, any refusal means "no connection" to the caller.
        const kind = classifySqlstate(error.sqlstate ?? '') === 'auth' ? 'auth' : 'connection';
        return { kind: 'fail', error: new PgError(kind, error.message, { sqlstate: error.sqlstate, severity: error.severity, fields: message.fields }) };
      }
      case 'parameterStatus':
        this.parameters.set(message.name, message.value);
        return { kind: 'continue' };
      case 'backendKeyData':
        if (this.#state !== 'params') return broken('BackendKeyData before authentication completed');
        this.#pid = message.pid;
        this.#secretKey = message.secretKey;
        return { kind: 'continue' };
      case 'notice':
      case 'negotiateProtocolVersion':
        return { kind: 'continue' };
      // A server (or pooler) without BackendKeyData cannot be sent a cancel: a timed-out query then
      // costs its connection instead.
      case 'readyForQuery':
        if (this.#state !== 'params') return broken('ReadyForQuery before authentication completed');
        if (this.parameters.get('client_encoding') !== 'UTF8') return broken('the server does not speak UTF8 to this client');
        return { kind: 'ready', pid: this.#pid, secretKey: this.#secretKey };
      default:
        return broken(`unexpected ${message.type} during startup`);
    }
  }

  async #authenticate(code: number, data: Buffer): Promise<HandshakeStep> {
    const password = this.#config.password;
    switch (code) {
      case AUTH.ok:
        // A server that says OK in the middle of SCRAM never proved it knows the password: a man
        // in the middle could be answering. libpq refuses this too.
        if (this.#state === 'saslContinue' || this.#state === 'saslFinal') return refuse('the server ended SCRAM authentication without proving it knows the password');
        if (this.#state === 'params') return broken('a second AuthenticationOk');
        this.#state = 'params';
        return { kind: 'continue' };
      case AUTH.cleartext:
        if (this.#state !== 'auth') return broken('an unexpected password request');
        if (!this.#tls) return refuse('the server asks for the password in cleartext over an unencrypted connection; refused (configure scram-sha-256 in pg_hba.conf, or use sslmode=require or verify-full)');
        if (password === null) return refuse('the server asks for a password and DATABASE_URL has none');
        this.#state = 'awaitOk';
        return { kind: 'send', bytes: passwordMessage(password.reveal()) };
      case AUTH.md5:
        return refuse('the server asks for MD5 password authentication, which this client does not support; use scram-sha-256 (password_encryption and pg_hba.conf)');
      case AUTH.sasl: {
        if (this.#state !== 'auth') return broken('an unexpected SASL request');
        const mechanisms = data.toString('utf8').split('\0').filter((m) => m !== '');
        if (!mechanisms.includes(MECHANISM)) return refuse(`the server offers no SASL mechanism this client supports (it supports ${MECHANISM})`);
        if (password === null) return refuse('the server asks for a password and DATABASE_URL has none');
        this.#scram = clientFirst();
        this.#state = 'saslContinue';
        return { kind: 'send', bytes: saslInitialResponse(MECHANISM, Buffer.from(this.#scram.message)) };
      }
      case AUTH.saslContinue: {
        if (this.#state !== 'saslContinue' || this.#scram === null || password === null) return broken('an unexpected SASLContinue');
        const final = await clientFinal(password.reveal(), this.#scram, data.toString('utf8'));
        if (!final.ok) return refuse(`SCRAM: ${final.problem}`);
        this.#expectedSignature = final.value.serverSignature;
        this.#state = 'saslFinal';
        return { kind: 'send', bytes: saslResponse(Buffer.from(final.value.message)) };
      }
      case AUTH.saslFinal: {
        if (this.#state !== 'saslFinal' || this.#expectedSignature === null) return broken('an unexpected SASLFinal');
        const verified = verifyServerFinal(data.toString('utf8'), this.#expectedSignature);
        if (!verified.ok) return refuse(`SCRAM: ${verified.problem}`);
        this.#state = 'awaitOk';
        return { kind: 'continue' };
      }
      case AUTH.kerberos:
      case AUTH.scm:
      case AUTH.gss:
      case AUTH.gssContinue:
      case AUTH.sspi:
        return refuse(`the server asks for an authentication method this client does not support (code ${code}); use scram-sha-256`);
      default:
        return broken(`unknown authentication request ${code}`);
    }
  }
}
