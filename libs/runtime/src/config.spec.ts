import { ConfigError, loadConfig } from './config';

describe('loadConfig: observability settings', () => {
  it('defaults to a 60 s readiness lag limit and open metrics', () => {
    const config = loadConfig({});
    expect(config.readyMaxLagSeconds).toBe(60);
    expect(config.metricsToken).toBeUndefined();
  });

  it('takes a lag limit in whole seconds from 1 to a day, and a metrics token of 16 characters or more', () => {
    const config = loadConfig({ AUTHZ_READY_MAX_LAG_SECONDS: '5', AUTHZ_METRICS_TOKEN: 'p'.repeat(16) });
    expect(config).toMatchObject({ readyMaxLagSeconds: 5, metricsToken: 'p'.repeat(16) });
    for (const bad of ['0', '-1', '1.5', 'soon', '86401']) {
      expect(() => loadConfig({ AUTHZ_READY_MAX_LAG_SECONDS: bad })).toThrow(ConfigError);
    }
    expect(() => loadConfig({ AUTHZ_METRICS_TOKEN: 'short' })).toThrow('at least 16 characters');
  });
});
