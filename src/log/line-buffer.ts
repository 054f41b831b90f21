// Log lines written in one event-loop turn go to the sink as one chunk: one write(2) per turn
// instead of one per request (stdout writes to files and pipes are synchronous on Linux, so each
// costs a system call on the thread serving HTTP). Lines wait at most until the end of the turn.
export type LineBuffer = {
  write(line: string): void;
  /** Writes what is buffered now (before process.exit, which skips pending callbacks). */
  flush(): void;
};

export function createLineBuffer(sink: (chunk: string) => void): LineBuffer {
  let pending: string[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const chunk = pending.join('');
    pending = [];
    sink(chunk);
  };
  return {
    write(line) {
      if (pending.length === 0) setImmediate(flush);
      pending.push(line);
    },
    flush,
  };
}
