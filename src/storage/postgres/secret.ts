// A password that cannot leak by accident: not through String(), JSON.stringify, util.inspect,
// console.log or an error's message. Only `reveal()` gives the text, where it is used (SCRAM,
// the cleartext password message).
import { inspect } from 'node:util';

const REDACTED = '[redacted]';

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}
