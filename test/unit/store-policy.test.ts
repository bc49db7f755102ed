import { describe, expect, it } from 'vitest';
import { mayStore, refusingHeader } from '../../sw/cache/store-policy.js';
import type { CacheOptions } from '../../sw/manifest/types.js';

const base: CacheOptions = { strategy: 'network-first' };
const res = (status: number, headers: Record<string, string> = {}) => new Response(status === 204 || status === 304 ? null : 'x', { status, headers });

describe('which responses a route stores', () => {
  it('stores 2xx but 206 by default', () => {
    expect([200, 201, 203, 204, 206, 301, 404, 500].map((s) => mayStore(base, res(s)))).toEqual([true, true, true, true, false, false, false, false]);
  });

  it('stores exactly the statuses a route lists', () => {
    const options = { ...base, statuses: [200, 404] };
    expect([200, 201, 404, 500].map((s) => mayStore(options, res(s)))).toEqual([true, false, true, false]);
  });

  it('never stores no-store, whatever the route says', () => {
    expect(mayStore(base, res(200, { 'Cache-Control': 'no-store' }))).toBe(false);
    expect(mayStore({ ...base, private: true }, res(200, { 'Cache-Control': 'max-age=60, No-Store' }))).toBe(false);
    expect(mayStore(base, res(200, { 'Cache-Control': 'no-cache' }))).toBe(true);
  });

  it('stores private responses only when the route opts in', () => {
    expect(mayStore(base, res(200, { 'Cache-Control': 'private, max-age=0' }))).toBe(false);
    expect(mayStore({ ...base, private: true }, res(200, { 'Cache-Control': 'private, max-age=0' }))).toBe(true);
  });

  it('does not try to store Vary: *, which the Cache API refuses', () => {
    expect(mayStore(base, res(200, { Vary: 'Accept, *' }))).toBe(false);
    expect(mayStore(base, res(200, { Vary: 'Accept' }))).toBe(true);
  });
});

describe('refusingHeader: the header to name when a storable answer is refused', () => {
  const res = (headers: Record<string, string>) => new Response('x', { status: 200, headers });
  it('names no-store, then private (unless the route opts in), then Vary: *', () => {
    expect(refusingHeader({}, res({ 'Cache-Control': 'private, no-store' }))).toBe('Cache-Control: no-store');
    expect(refusingHeader({}, res({ 'Cache-Control': 'Private' }))).toBe('Cache-Control: private');
    expect(refusingHeader({ private: true }, res({ 'Cache-Control': 'private' }))).toBeUndefined();
    expect(refusingHeader({}, res({ Vary: 'Accept, *' }))).toBe('Vary: *');
    expect(refusingHeader({}, res({ 'Cache-Control': 'no-cache', Vary: 'Accept' }))).toBeUndefined();
  });
});
