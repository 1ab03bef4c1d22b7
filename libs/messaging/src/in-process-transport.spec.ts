import type { EventEnvelope } from '@authz/contracts';
import { InProcessTransport } from './in-process-transport';
import { decode, encode } from './codec';

const event = (streamId: string, position: number): EventEnvelope => ({
  eventId: `e${position}`, type: 'T', schemaVersion: 1, streamId, streamVersion: position, position,
  occurredAt: '2026-01-01T00:00:00.000Z', nodeId: 'n', correlationId: 'c', actor: 'a', data: { position },
});

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('InProcessTransport', () => {
  it('delivers in publish order, only the categories subscribed to, to each group', async () => {
    const transport = new InProcessTransport();
    const a: number[] = [];
    const b: number[] = [];
    await transport.subscribe({ group: 'a', categories: ['user'], fromBeginning: true }, async (batch) => void a.push(...batch.map((e) => e.position)));
    await transport.subscribe({ group: 'b', categories: ['user', 'parameters'], fromBeginning: true }, async (batch) => void b.push(...batch.map((e) => e.position)));
    await transport.publish([event('user-x', 1), event('parameters-cluster', 2), event('user-y', 3)]);
    await until(() => b.length === 3);
    expect(a).toEqual([1, 3]);
    expect(b).toEqual([1, 2, 3]);
    await transport.close();
  });

  it('retries a failing handler with the same event and keeps the order', async () => {
    const transport = new InProcessTransport();
    const seen: number[] = [];
    let failures = 2;
    await transport.subscribe({ group: 'g', categories: ['user'], fromBeginning: true }, async (batch) => {
      if (batch[0].position === 1 && failures-- > 0) throw new Error('database down');
      seen.push(...batch.map((e) => e.position));
    });
    await transport.publish([event('user-x', 1), event('user-x', 2)]);
    await until(() => seen.length === 2);
    expect(seen).toEqual([1, 2]);
    await transport.close();
  });

  it("logs a handler's failure with the fields its error carries (the event it failed on)", async () => {
    const logged: [string, unknown][] = [];
    const transport = new InProcessTransport((message, fields) => logged.push([message, fields]));
    let failed = false;
    await transport.subscribe({ group: 'g', categories: ['user'], fromBeginning: true }, async () => {
      if (failed) return;
      failed = true;
      throw Object.assign(new Error('bad event'), { logFields: { eventId: 'e1', correlationId: 'c' } });
    });
    await transport.publish([event('user-x', 1)]);
    await until(() => logged.length > 0);
    expect(logged[0]).toEqual(['subscriber g failed, retrying: bad event', { eventId: 'e1', correlationId: 'c' }]);
    await transport.close();
  });
});

describe('Kafka codec', () => {
  it('keys by stream and carries type, schema version and event id in headers', () => {
    const message = encode(event('user-x', 7));
    expect(message.key).toBe('user-x');
    expect(message.headers).toMatchObject({ 'event-type': 'T', 'schema-version': '1', 'event-id': 'e7' });
    expect(decode(Buffer.from(message.value as string), message.headers)).toEqual(event('user-x', 7));
  });

  it('rejects an empty message and a body that contradicts its header', () => {
    expect(() => decode(null)).toThrow('empty');
    const message = encode(event('user-x', 7));
    expect(() => decode(Buffer.from(message.value as string), { 'event-id': 'other' })).toThrow('does not match');
  });
});
