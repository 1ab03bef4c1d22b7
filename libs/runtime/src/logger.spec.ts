import { afterEach, beforeEach, jest } from '@jest/globals';
import { withCorrelationId } from './http/correlation';
import { createLogger } from './logger';

describe('createLogger', () => {
  let written: string[];
  beforeEach(() => {
    written = [];
    const capture = (chunk: unknown) => (written.push(String(chunk)), true);
    jest.spyOn(process.stdout, 'write').mockImplementation(capture as never);
    jest.spyOn(process.stderr, 'write').mockImplementation(capture as never);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  const entries = () => written.join('').trim().split('\n').map((line) => JSON.parse(line));

  it('writes one JSON object per line, with the fields at its top level', () => {
    const { log } = createLogger('test');
    log('info', 'hello', { route: '/x', status: 200 });
    log('warn', 'careful');
    log('error', 'broken', { eventId: 'e-1' });
    expect(entries()).toEqual([
      expect.objectContaining({ level: 'log', message: 'hello', context: 'test', route: '/x', status: 200 }),
      expect.objectContaining({ level: 'warn', message: 'careful', context: 'test' }),
      expect.objectContaining({ level: 'error', message: 'broken', context: 'test', eventId: 'e-1' }),
    ]);
    expect(entries()[1]).not.toHaveProperty('correlationId');
  });

  it("adds the current request's correlation id, unless the line names its own", async () => {
    const { log, nest } = createLogger('test');
    await withCorrelationId('req-9', async () => {
      await Promise.resolve();
      log('info', 'in a request');
      nest.log('from Nest itself');
      log('warn', 'about an event', { correlationId: 'event-corr' });
    });
    expect(entries().map((e) => e.correlationId)).toEqual(['req-9', 'req-9', 'event-corr']);
  });

  it('keeps the framework fields when a field has the same name', () => {
    createLogger('test').log('info', 'real message', { message: 'forged', level: 'fatal' });
    expect(entries()[0]).toMatchObject({ message: 'real message', level: 'log' });
  });
});
