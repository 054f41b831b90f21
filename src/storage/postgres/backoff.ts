// Exponential backoff with full jitter between connection attempts, so replicas that lost the
// database together do not reconnect in lockstep. The clock and the random source are passed in.

export type BackoffOptions = Readonly<{ initialMs: number; maxMs: number }>;

export class Backoff {
  readonly #options: BackoffOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  #attempt = 0;
  #until = 0;

  constructor(options: BackoffOptions, now: () => number = Date.now, random: () => number = Math.random) {
    this.#options = options;
    this.#now = now;
    this.#random = random;
  }

  /** A failure: the next attempt waits a while (up to twice as long as the last, capped). */
  failed(): number {
    const ceiling = Math.min(this.#options.maxMs, this.#options.initialMs * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    const delay = Math.round(ceiling / 2 + (this.#random() * ceiling) / 2);
    this.#until = this.#now() + delay;
    return delay;
  }

  succeeded(): void {
    this.#attempt = 0;
    this.#until = 0;
  }

  /** Milliseconds until another attempt is allowed (0: now). */
  remaining(): number {
    return Math.max(0, this.#until - this.#now());
  }
}
