/**
 * Remembers the result of reading a header segment. Every token signed (or encrypted) with one
 * key carries the very same header, so each token would otherwise decode and check it again.
 * Only headers that passed every check are kept, and the kid they name is still looked up in
 * the key ring per token, so nothing about trust is cached. Bounded: anyone can send new
 * header spellings, so past `max` it simply starts over.
 */
export class HeaderMemo<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly max = 64) {}

  get(segment: string): T | undefined {
    return this.entries.get(segment);
  }

  set(segment: string, value: T): T {
    if (this.entries.size >= this.max) this.entries.clear();
    this.entries.set(segment, value);
    return value;
  }
}
