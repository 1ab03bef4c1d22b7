import { insideEmbeddedTransaction } from './database';

export interface BatcherOptions {
  /** Batches in flight at once; an item waits only while this many are. */
  maxInFlight: number;
  /** Items per batch at most. */
  maxBatch: number;
}

/**
 * Reads and appends of the hot path: one statement in flight, for up to 500 requests. A second
 * one in flight halved the batches (each append paid its own statement and WAL flush) and cost
 * about 7% of the token endpoints' throughput in the oauth bench, for no better latency.
 */
export const HOT_PATH_BATCHING: BatcherOptions = { maxInFlight: 1, maxBatch: 500 };

interface Waiting<A, R> {
  item: A;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Items that arrive while earlier batches are in flight wait, and are then handled together by
 * one call of `run`: e.g. group commit, where the appends of many requests share one statement,
 * one transaction and one WAL flush. An idle batcher runs an item at once; a busy one makes
 * bigger batches. With `keysOf`, a batch holds each key at most once (e.g. each stream, so that
 * each append keeps version checks of its own and can fail alone); an item with a key already
 * taken waits for the next batch.
 */
export class Batcher<A, R> {
  private queue: Waiting<A, R>[] = [];
  private inFlight = 0;

  constructor(
    private readonly keysOf: ((item: A) => readonly string[]) | undefined,
    /** Handles a batch; answers one result per item, in the batch's order. */
    private readonly run: (batch: A[]) => Promise<R[]>,
    private readonly options: BatcherOptions,
  ) {}

  add(item: A): Promise<R> {
    // Inside an embedded transaction the item runs alone, in it: a batch would wait for the
    // session the transaction holds, and would show other requests its uncommitted rows.
    if (insideEmbeddedTransaction()) return this.run([item]).then((results) => results[0]);
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      this.inFlight++;
      this.run(batch.map((w) => w.item))
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

  /** The oldest waiting items (each key once), in arrival order. */
  private take(): Waiting<A, R>[] {
    const batch: Waiting<A, R>[] = [];
    const taken = new Set<string>();
    const rest: Waiting<A, R>[] = [];
    for (const waiting of this.queue) {
      const keys = this.keysOf?.(waiting.item) ?? [];
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
