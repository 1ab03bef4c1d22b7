import type { ProjectionLag } from '@authz/read-models';

/**
 * Ready while every projection is within `maxSeconds` of the event store; else says which is
 * not. A projection being replayed lags by design, and so do the others, whose live deliveries
 * it shares (they wait for the replay): they do not count. An operator's replay must not take
 * serving nodes out of a load balancer.
 */
export function lagVerdict(lags: readonly ProjectionLag[], maxSeconds: number): { ready: true } | { ready: false; reason: string } {
  const worst = lags.filter((l) => !l.replaying).sort((a, b) => b.seconds - a.seconds)[0];
  if (!worst || worst.seconds <= maxSeconds) return { ready: true };
  return {
    ready: false,
    reason: `projection ${worst.projection} is ${Math.round(worst.seconds)} s behind (${worst.events} event${worst.events === 1 ? '' : 's'}; the limit is ${maxSeconds} s)`,
  };
}
