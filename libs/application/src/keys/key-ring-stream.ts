import { streamId, type EventEnvelope, type KeyKind, type KeyRegeneratedV2 } from '@authz/contracts';
import { KEY_RING_STREAM_ID, KeyRing } from '@authz/domain';
import type { EventStore } from '../ports';

export const KEY_RING_STREAM = streamId('keyring', KEY_RING_STREAM_ID);

export interface KeyInfo {
  kid: string;
  fingerprint: string;
  createdAt: string;
}

export async function loadKeyRing(store: EventStore): Promise<{ ring: KeyRing; events: EventEnvelope[] }> {
  const events = await store.readStream(KEY_RING_STREAM);
  return { ring: new KeyRing().loadFromHistory(events), events };
}

/** The current key of a kind as admins see it: hashes and dates, never material. */
export function keyInfo(events: readonly EventEnvelope[], kind: KeyKind): KeyInfo | null {
  const event = events.findLast((e) => e.type === 'KeyRegenerated' && (e.data as KeyRegeneratedV2).kind === kind);
  if (!event) return null;
  const { kid, fingerprint } = event.data as KeyRegeneratedV2;
  return { kid, fingerprint, createdAt: event.occurredAt };
}
