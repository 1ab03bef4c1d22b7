import { Metrics } from './metrics';
import { shared, stateGauges } from './state-metrics';

describe('state gauges', () => {
  it('shares one load between concurrent callers, and loads afresh afterwards', async () => {
    let loads = 0;
    const load = shared(async () => {
      loads += 1;
      await new Promise((r) => setTimeout(r, 5));
      return loads;
    });
    expect(await Promise.all([load(), load(), load()])).toEqual([1, 1, 1]);
    expect(await load()).toBe(2);
  });

  it('reads the outbox and the lag at each scrape, with one lag query for both lag gauges', async () => {
    const metrics = new Metrics();
    let lagQueries = 0;
    let backlog = 3;
    const lag = shared(async () => {
      lagQueries += 1;
      return [{ projection: 'clients', events: 4, seconds: 2.5 }];
    });
    stateGauges(metrics, { outboxBacklog: async () => backlog, projectionLag: lag }, () => undefined);
    const first = await metrics.text();
    expect(first).toContain('authz_outbox_backlog_events 3');
    expect(first).toContain('authz_projection_lag_events{projection="clients"} 4');
    expect(first).toContain('authz_projection_lag_seconds{projection="clients"} 2.5');
    expect(lagQueries).toBe(1);
    backlog = 0;
    expect(await metrics.text()).toContain('authz_outbox_backlog_events 0');
  });

  it('leaves out of the scrape a gauge whose query fails, and logs why', async () => {
    const metrics = new Metrics();
    const logged: string[] = [];
    stateGauges(
      metrics,
      { outboxBacklog: async () => 5, projectionLag: async () => Promise.reject(new Error('connection refused')) },
      (_level, message) => logged.push(message),
    );
    const text = await metrics.text();
    expect(text).toContain('authz_outbox_backlog_events 5');
    expect(text).not.toMatch(/authz_projection_lag_events\{/);
    expect(logged).toContain('metrics: could not read the projection lag: connection refused');
  });
});
