import { afterEach, beforeEach, jest } from '@jest/globals';
import { createLogger, flushLogs } from './logger';

describe('createLogger', () => {
  let written: string[];
  beforeEach(() => {
    written = [];
    // Only JSON lines: Jest's process also writes its own warnings (e.g. on VM modules).
    const capture = (chunk: unknown) => (String(chunk).startsWith('{') && written.push(String(chunk)), true);
    jest.spyOn(process.stdout, 'write').mockImplementation(capture as never);
    jest.spyOn(process.stderr, 'write').mockImplementation(capture as never);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  const entries = () => {
    flushLogs();
    return written.join('').trim().split('\n').map((line) => JSON.parse(line));
  };

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

  it('writes the correlation id a line names, and none where it names none', () => {
    const { log, nest } = createLogger('test');
    log('info', 'in a request', { correlationId: 'req-9' });
    nest.log('from Nest itself');
    expect(entries().map((e) => e.correlationId)).toEqual(['req-9', undefined]);
  });

  it('writes the lines of one event loop turn in one write, and the rest at the next turn', async () => {
    const { log } = createLogger('test');
    for (let i = 0; i < 100; i++) log('info', `line ${i}`);
    expect(written).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toHaveLength(1);
    log('info', 'later');
    expect(entries().map((e) => e.message)).toEqual([...Array.from({ length: 100 }, (_, i) => `line ${i}`), 'later']);
  });

  it("takes Nest's own calls as Nest makes them: a context name last, a stack trace in a field with errors", () => {
    const { nest } = createLogger('test');
    nest.log('routes mapped', 'RouterExplorer');
    nest.error('boom', 'Error: boom\n    at handler (file.js:1:1)', 'ExceptionsHandler');
    nest.error(new Error('thrown'));
    const [mapped, boom, thrown] = entries();
    expect(mapped).toMatchObject({ level: 'log', message: 'routes mapped', context: 'RouterExplorer' });
    expect(boom).toMatchObject({ level: 'error', message: 'boom', context: 'ExceptionsHandler', stack: expect.stringContaining('at handler') });
    expect(thrown).toMatchObject({ level: 'error', message: 'thrown', context: 'test', stack: expect.stringContaining('Error: thrown') });
  });

  it('writes every level to stdout, errors and fatal ones too, in the order they were logged', () => {
    const out: string[] = [];
    const err: string[] = [];
    jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown) => (String(chunk).startsWith('{') && out.push(String(chunk)), true)) as never);
    jest.spyOn(process.stderr, 'write').mockImplementation(((chunk: unknown) => (String(chunk).startsWith('{') && err.push(String(chunk)), true)) as never);
    const { log, nest } = createLogger('test');
    log('info', 'one');
    log('error', 'two');
    nest.fatal('three');
    nest.error('four', 'Error: four\n    at handler (file.js:1:1)', 'ExceptionsHandler');
    log('warn', 'five');
    flushLogs();
    expect(err).toEqual([]);
    expect(out.join('').trim().split('\n').map((line) => JSON.parse(line).message)).toEqual(['one', 'two', 'three', 'four', 'five']);
  });

  it('keeps the framework fields when a field has the same name', () => {
    createLogger('test').log('info', 'real message', { message: 'forged', level: 'fatal' });
    expect(entries()[0]).toMatchObject({ message: 'real message', level: 'log' });
  });
});
