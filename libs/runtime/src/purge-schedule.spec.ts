import { jest } from '@jest/globals';
import { PurgeRunningError, type ExpiredTokenPurge } from '@authz/application';
import { ConfigError, loadConfig } from './config';
import { nextRunAt, PurgeSchedule } from './purge-schedule';

const at = (iso: string) => Date.parse(iso);

describe('AUTHZ_PURGE_* configuration', () => {
  it('defaults: daily at 02:00 UTC, batches of 5,000, 50 ms apart, 1,000,000 rows per run, no grace', () => {
    expect(loadConfig({}).purge).toEqual({ at: { hour: 2, minute: 0 }, batchSize: 5_000, pauseMs: 50, maxRows: 1_000_000, graceSeconds: 0 });
  });

  it('takes HH:MM, H:MM, HH:MM:SS and off', () => {
    expect(loadConfig({ AUTHZ_PURGE_AT: '23:59' }).purge.at).toEqual({ hour: 23, minute: 59 });
    expect(loadConfig({ AUTHZ_PURGE_AT: '02:00:30' }).purge.at).toEqual({ hour: 2, minute: 0, second: 30 });
    expect(loadConfig({ AUTHZ_PURGE_AT: '0:05' }).purge.at).toEqual({ hour: 0, minute: 5 });
    expect(loadConfig({ AUTHZ_PURGE_AT: 'OFF' }).purge.at).toBeNull();
    const tuned = loadConfig({ AUTHZ_PURGE_BATCH_SIZE: '1000', AUTHZ_PURGE_PAUSE_MS: '0', AUTHZ_PURGE_MAX_ROWS: '20000', AUTHZ_PURGE_GRACE_SECONDS: '3600' }).purge;
    expect(tuned).toMatchObject({ batchSize: 1_000, pauseMs: 0, maxRows: 20_000, graceSeconds: 3_600 });
  });

  it.each([
    ['AUTHZ_PURGE_AT', '24:00'],
    ['AUTHZ_PURGE_AT', '02:60'],
    ['AUTHZ_PURGE_AT', '2'],
    ['AUTHZ_PURGE_AT', '02:00:60'],
    ['AUTHZ_PURGE_AT', '02:00:5'],
    ['AUTHZ_PURGE_AT', '2am'],
    ['AUTHZ_PURGE_AT', ' 02:00'],
    ['AUTHZ_PURGE_AT', '-1:00'],
    ['AUTHZ_PURGE_BATCH_SIZE', '0'],
    ['AUTHZ_PURGE_BATCH_SIZE', '100001'],
    ['AUTHZ_PURGE_PAUSE_MS', '-1'],
    ['AUTHZ_PURGE_MAX_ROWS', '0'],
    ['AUTHZ_PURGE_MAX_ROWS', '100000001'],
    ['AUTHZ_PURGE_GRACE_SECONDS', '1.5'],
  ])('%s=%j is a ConfigError naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

describe('purge schedule', () => {
  it('the next run is the first HH:MM UTC strictly after now', () => {
    const twoAm = { hour: 2, minute: 0 };
    expect(nextRunAt(twoAm, at('2026-03-01T01:59:59.999Z'))).toBe(at('2026-03-01T02:00:00.000Z'));
    expect(nextRunAt(twoAm, at('2026-03-01T02:00:00.000Z'))).toBe(at('2026-03-02T02:00:00.000Z'));
    expect(nextRunAt(twoAm, at('2026-12-31T23:00:00.000Z'))).toBe(at('2027-01-01T02:00:00.000Z'));
    expect(nextRunAt({ hour: 0, minute: 0 }, at('2028-02-28T12:00:00.000Z'))).toBe(at('2028-02-29T00:00:00.000Z'));
    expect(nextRunAt({ hour: 2, minute: 0, second: 30 }, at('2026-03-01T02:00:29.000Z'))).toBe(at('2026-03-01T02:00:30.000Z'));
  });

  describe('timer', () => {
    beforeEach(() => jest.useFakeTimers({ now: at('2026-03-01T01:00:00.000Z') }));
    afterEach(() => jest.useRealTimers());

    function fakePurge(outcome: () => Promise<unknown>) {
      const run = jest.fn(outcome);
      return { run, purge: { run } as unknown as ExpiredTokenPurge };
    }

    it('runs at the time every day, also after another node had the lock; stop() ends it', async () => {
      const { run, purge } = fakePurge(() => Promise.reject(new PurgeRunningError('elsewhere')));
      const log: string[] = [];
      const schedule = new PurgeSchedule({ hour: 2, minute: 0 }, purge, (_level, message) => log.push(message));
      schedule.start();
      expect(schedule.nextRun).toBe(at('2026-03-01T02:00:00.000Z'));
      await jest.advanceTimersByTimeAsync(3_600_000 - 1);
      expect(run).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(1);
      expect(run).toHaveBeenCalledTimes(1);
      expect(run).toHaveBeenCalledWith({ trigger: 'schedule' });
      expect(log[0]).toContain('another node');
      expect(schedule.nextRun).toBe(at('2026-03-02T02:00:00.000Z'));
      await jest.advanceTimersByTimeAsync(86_400_000);
      expect(run).toHaveBeenCalledTimes(2);
      schedule.stop();
      await jest.advanceTimersByTimeAsync(3 * 86_400_000);
      expect(run).toHaveBeenCalledTimes(2);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('a failed run does not stop the schedule', async () => {
      const { run, purge } = fakePurge(() => Promise.reject(new Error('database down')));
      const schedule = new PurgeSchedule({ hour: 2, minute: 0 }, purge, () => undefined);
      schedule.start();
      await jest.advanceTimersByTimeAsync(2 * 86_400_000);
      expect(run).toHaveBeenCalledTimes(2);
      schedule.stop();
    });
  });
});
