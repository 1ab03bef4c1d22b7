export interface GroupCommitOptions {
  /** Batches being written at once; an append waits only while this many are. */
  maxInFlight: number;
  /** Appends per batch at most. */
  maxBatch: number;
}

interface Waiting<A, R> {
  append: A;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: appends that arrive while earlier batches are being written wait, and are then
 * written together by one call of `write`: one statement, one transaction and one WAL flush
 * for many requests. An idle store writes an append at once; a busy one makes bigger batches.
 * With `keysOf`, a batch holds each key at most once (e.g. each stream, so that each append
 * keeps version checks of its own and can fail alone); an append with a key already taken
 * waits for the next batch.
 */
export class GroupCommit<A, R> {
  private queue: Waiting<A, R>[] = [];
  private inFlight = 0;

  constructor(
    private readonly keysOf: ((append: A) => readonly string[]) | undefined,
    /** Writes a batch; answers one result per append, in the batch's order. */
    private readonly write: (batch: A[]) => Promise<R[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  append(append: A): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ append, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      this.inFlight++;
      this.write(batch.map((w) => w.append))
        .then(
          (results) => batch.forEach((w, i) => w.resolve(results[i])),
          (error) => batch.forEach((w) => w.reject(error)),
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }

  /** The oldest waiting appends (each key once), in arrival order. */
  private take(): Waiting<A, R>[] {
    const batch: Waiting<A, R>[] = [];
    const taken = new Set<string>();
    const rest: Waiting<A, R>[] = [];
    for (const waiting of this.queue) {
      const keys = this.keysOf?.(waiting.append) ?? [];
      if (batch.length < this.options.maxBatch && !keys.some((key) => taken.has(key))) {
        for (const key of keys) taken.add(key);
        batch.push(waiting);
      } else {
        rest.push(waiting);
      }
    }
    this.queue = rest;
    return batch;
  }
}
