/** Outcome classes and backoff: one attempt per backoff step at most (issue 9, defects 3 and 15, and the chaos suite's spin). */
import { describe, expect, it } from 'vitest';
import { BACKOFF_CAP_MS, backoffMs, clampRetryAfter, classify } from '../../sw/outbox/outcome.js';

const policy = { timeoutMs: 1000, retry: [], conflict: [409, 412] };

describe('backoffMs', () => {
  it('waits at least one step (1 s, 2 s, 4 s…) and less than two, capped at 5 min', () => {
    expect(backoffMs(1, () => 0)).toBe(1000);
    expect(backoffMs(1, () => 0.999)).toBeLessThan(2000);
    expect(backoffMs(3, () => 0)).toBe(4000);
    expect(backoffMs(30, () => 0.9)).toBe(BACKOFF_CAP_MS);
  });
});

describe('clampRetryAfter', () => {
  it('keeps a server Retry-After within [1 s, 5 min]; without one, the fallback', () => {
    expect(clampRetryAfter(0)).toBe(1000);
    expect(clampRetryAfter(10 * 365 * 86_400_000)).toBe(BACKOFF_CAP_MS);
    expect(clampRetryAfter(120_000)).toBe(120_000);
    expect(clampRetryAfter(undefined, 1234)).toBe(1234);
  });
});

describe('classify', () => {
  it('one definition of retryable: 408, 429, 500, 502, 503, 504 and the route own; 501 is dead', () => {
    for (const status of [408, 429, 500, 502, 503, 504]) expect(classify(status, policy)).toBe('retry');
    expect(classify(501, policy)).toBe('dead');
    expect(classify(409, { ...policy, retry: [409] })).toBe('retry');
  });

  it('a redirect (or the browser’s opaque one, status 0) waits as auth; for a form post it is delivered', () => {
    for (const status of [0, 301, 302, 303, 307, 308]) {
      expect(classify(status, policy)).toBe('auth');
      expect(classify(status, policy, true)).toBe('done');
    }
    expect(classify(204, policy)).toBe('done');
  });
});
