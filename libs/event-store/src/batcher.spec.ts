import { Batcher } from './batcher';

interface Append {
  stream: string;
  n: number;
}

/** A writer whose batches finish when the test says so. */
function recordingWriter() {
  const batches: Append[][] = [];
  const finish: ((error?: Error) => void)[] = [];
  const write = (batch: Append[]) =>
    new Promise<string[]>((resolve, reject) => {
      batches.push(batch);
      finish.push((error) => (error ? reject(error) : resolve(batch.map((a) => `${a.stream}#${a.n}`))));
    });
  return { batches, finish, write };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Batcher', () => {
  it('writes an append at once when nothing else is being written', async () => {
    const writer = recordingWriter();
    const group = new Batcher((a: Append) => [a.stream], writer.write, { maxInFlight: 1, maxBatch: 100 });
    const result = group.add({ stream: 'a', n: 1 });
    expect(writer.batches).toEqual([[{ stream: 'a', n: 1 }]]);
    writer.finish[0]();
    await expect(result).resolves.toBe('a#1');
  });

  it('gathers the appends that arrive while a batch is written into the next one, in arrival order', async () => {
    const writer = recordingWriter();
    const group = new Batcher((a: Append) => [a.stream], writer.write, { maxInFlight: 1, maxBatch: 100 });
    const first = group.add({ stream: 'a', n: 1 });
    const waiting = ['b', 'c', 'd'].map((stream, n) => group.add({ stream, n }));
    expect(writer.batches).toHaveLength(1);
    writer.finish[0]();
    await first;
    await tick();
    expect(writer.batches[1].map((a) => a.stream)).toEqual(['b', 'c', 'd']);
    writer.finish[1]();
    await expect(Promise.all(waiting)).resolves.toEqual(['b#0', 'c#1', 'd#2']);
  });

  it('keeps one append per stream in a batch: the stream’s next append waits for the next batch', async () => {
    const writer = recordingWriter();
    const group = new Batcher((a: Append) => [a.stream], writer.write, { maxInFlight: 1, maxBatch: 100 });
    void group.add({ stream: 'busy', n: 0 });
    const later = [group.add({ stream: 'x', n: 1 }), group.add({ stream: 'x', n: 2 }), group.add({ stream: 'y', n: 3 })];
    writer.finish[0]();
    await tick();
    expect(writer.batches[1]).toEqual([{ stream: 'x', n: 1 }, { stream: 'y', n: 3 }]);
    writer.finish[1]();
    await tick();
    expect(writer.batches[2]).toEqual([{ stream: 'x', n: 2 }]);
    writer.finish[2]();
    await expect(Promise.all(later)).resolves.toEqual(['x#1', 'x#2', 'y#3']);
  });

  it('keeps an append out of a batch that holds any of its keys', async () => {
    const writer = recordingWriter();
    const group = new Batcher((a: Append) => a.stream.split('+'), writer.write, { maxInFlight: 1, maxBatch: 100 });
    void group.add({ stream: 'busy', n: 0 });
    const later = [group.add({ stream: 'a+b', n: 1 }), group.add({ stream: 'b+c', n: 2 }), group.add({ stream: 'c', n: 3 })];
    writer.finish[0]();
    await tick();
    expect(writer.batches[1].map((a) => a.stream)).toEqual(['a+b', 'c']);
    writer.finish[1]();
    await tick();
    expect(writer.batches[2].map((a) => a.stream)).toEqual(['b+c']);
    writer.finish[2]();
    await expect(Promise.all(later)).resolves.toEqual(['a+b#1', 'b+c#2', 'c#3']);
  });

  it('bounds batches by maxBatch and writes up to maxInFlight of them at once', async () => {
    const writer = recordingWriter();
    const group = new Batcher((a: Append) => [a.stream], writer.write, { maxInFlight: 2, maxBatch: 3 });
    const all = Array.from({ length: 8 }, (_, n) => group.add({ stream: `s${n}`, n }));
    // The first two find a free slot each and are written alone; the other six wait.
    expect(writer.batches.map((b) => b.length)).toEqual([1, 1]);
    writer.finish[0]();
    await tick();
    expect(writer.batches.map((b) => b.length)).toEqual([1, 1, 3]);
    writer.finish[1]();
    await tick();
    expect(writer.batches.map((b) => b.length)).toEqual([1, 1, 3, 3]);
    writer.finish[2]();
    writer.finish[3]();
    await expect(Promise.all(all)).resolves.toHaveLength(8);
  });

  it('fails only the appends of a batch whose write failed; the next batch is written', async () => {
    const writer = recordingWriter();
    const group = new Batcher((a: Append) => [a.stream], writer.write, { maxInFlight: 1, maxBatch: 100 });
    const doomed = group.add({ stream: 'a', n: 1 });
    const next = group.add({ stream: 'b', n: 2 });
    writer.finish[0](new Error('connection lost'));
    await expect(doomed).rejects.toThrow('connection lost');
    await tick();
    writer.finish[1]();
    await expect(next).resolves.toBe('b#2');
  });
});
