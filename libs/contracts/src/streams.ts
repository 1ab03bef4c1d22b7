/**
 * Stream ids are `<category>-<id>`. The category decides the Kafka topic, so that a
 * consumer that needs one kind of event (e.g. the key cache) does not read them all.
 */
export const STREAM_CATEGORIES = ['parameters', 'user', 'keyring', 'client', 'grant', 'authcode', 'signin', 'revocation', 'maintenance'] as const;
export type StreamCategory = (typeof STREAM_CATEGORIES)[number];

export function streamId(category: StreamCategory, id: string): string {
  return `${category}-${id}`;
}

export function categoryOf(stream: string): StreamCategory {
  const category = stream.slice(0, stream.indexOf('-'));
  if (!(STREAM_CATEGORIES as readonly string[]).includes(category)) {
    throw new Error(`stream "${stream}" has no known category`);
  }
  return category as StreamCategory;
}

export function topicFor(prefix: string, category: StreamCategory): string {
  return `${prefix}.${category}`;
}
