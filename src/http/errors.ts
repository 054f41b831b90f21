// The error catalog: every error a client can see, mapped to its status and body in one place.

export type ErrorCode =
  | 'not_found'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'invalid_signature'
  | 'timestamp_outside_tolerance'
  | 'verification_failed'
  | 'invalid_challenge'
  | 'incomplete_body'
  | 'secret_not_configured'
  | 'storage_unavailable'
  | 'server_busy'
  | 'unauthorized'
  | 'bad_request'
  | 'request_timeout'
  | 'headers_too_large'
  | 'expectation_failed'
  | 'internal';

type CatalogEntry = Readonly<{ status: number; detail: string; headers?: Readonly<Record<string, string>> }>;

export const ERRORS: Readonly<Record<ErrorCode, CatalogEntry>> = {
  not_found: { status: 404, detail: 'Not Found' },
  method_not_allowed: { status: 405, detail: 'Method Not Allowed' },
  payload_too_large: { status: 413, detail: 'payload too large' },
  invalid_signature: { status: 401, detail: 'invalid signature' },
  // A Standard Webhooks delivery signed correctly, but outside WEBHOOK_TOLERANCE_SECONDS (a replay or a drifting clock).
  timestamp_outside_tolerance: { status: 401, detail: 'timestamp outside tolerance' },
  // Meta's GET handshake on /webhook/whatsapp: wrong mode or token, or no token configured.
  verification_failed: { status: 403, detail: 'verification failed' },
  invalid_challenge: { status: 400, detail: 'invalid hub.challenge' },
  incomplete_body: { status: 400, detail: 'incomplete request body', headers: { Connection: 'close' } },
  secret_not_configured: { status: 503, detail: 'webhook secret not configured' },
  // The sender retries on any non-2xx; Retry-After tells it when.
  storage_unavailable: { status: 503, detail: 'storage unavailable', headers: { 'Retry-After': '1' } },
  // Too many deliveries in progress at once (see webhook/in-flight.ts).
  server_busy: { status: 503, detail: 'server busy', headers: { 'Retry-After': '1' } },
  // A read route without the right READ_TOKEN (RFC 6750 §3: the challenge names the scheme).
  unauthorized: { status: 401, detail: 'unauthorized', headers: { 'WWW-Authenticate': 'Bearer' } },
  // Malformed HTTP (RFC 9112): the framing cannot be trusted, so the connection closes after it.
  bad_request: { status: 400, detail: 'Bad Request', headers: { Connection: 'close' } },
  // Headers, or a body before its signature was checked, not received in time (http/body-gate.ts).
  request_timeout: { status: 408, detail: 'request timeout', headers: { Connection: 'close' } },
  headers_too_large: { status: 431, detail: 'request headers too large', headers: { Connection: 'close' } },
  // An Expect other than 100-continue (RFC 9110 §10.1.1).
  expectation_failed: { status: 417, detail: 'Expectation Failed', headers: { Connection: 'close' } },
  internal: { status: 500, detail: 'Internal Server Error' },
};

/** One problem in a FastAPI-shaped 422 body: {"detail":[{"loc":[…],"msg":"…","type":"…"}]}. */
export type FieldError = Readonly<{ loc: readonly (string | number)[]; msg: string; type: string }>;
