import { lagVerdict } from './readiness';

describe('lagVerdict', () => {
  const lag = (projection: string, seconds: number, events = 1) => ({ projection, seconds, events });

  it('is ready with no projection, and when every one is within the limit', () => {
    expect(lagVerdict([], 60)).toEqual({ ready: true });
    expect(lagVerdict([lag('a', 0, 0), lag('b', 60, 12)], 60)).toEqual({ ready: true });
  });

  it('names the projection furthest behind once one passes the limit', () => {
    expect(lagVerdict([lag('a', 61, 3), lag('b', 90.4, 7), lag('c', 2)], 60)).toEqual({
      ready: false,
      reason: 'projection b is 90 s behind (7 events; the limit is 60 s)',
    });
    expect(lagVerdict([lag('a', 5, 1)], 1)).toEqual({ ready: false, reason: 'projection a is 5 s behind (1 event; the limit is 1 s)' });
  });

  it('leaves out a projection being replayed', () => {
    expect(lagVerdict([{ ...lag('a', 300, 40), replaying: true }, lag('b', 2)], 60)).toEqual({ ready: true });
    expect(lagVerdict([{ ...lag('a', 300, 40), replaying: true }, lag('b', 61)], 60)).toMatchObject({ ready: false, reason: expect.stringContaining('projection b') });
  });
});
