import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../sw/manifest/types.js';
import { compileRoutes, findRoute } from '../../sw/routing/route-table.js';

const ORIGIN = 'https://app.example';
const manifest: Manifest = {
  version: 1,
  routes: [
    { match: '/api/items/special', cache: { strategy: 'cache-first' } },
    { match: '/api/items/:id', cache: { strategy: 'network-first' } },
    { match: '/api/items', methods: ['GET', 'POST'], cache: { strategy: 'network-first' } },
    { match: '/:page', cache: { strategy: 'stale-while-revalidate' } },
    { match: '/img/*', origin: 'https://cdn.example', cache: { strategy: 'cache-first' } },
    { match: '/*', cache: { strategy: 'network-only' } },
  ],
};
const table = compileRoutes(manifest, ORIGIN, [`${ORIGIN}/offline.manifest.json`]);
const find = (method: string, href: string) => findRoute(table, method, new URL(href, ORIGIN));

describe('route table', () => {
  it('returns the first matching route in manifest order, with its parameters', () => {
    expect(find('GET', '/api/items/special')?.route.index).toBe(0);
    expect(find('GET', '/api/items/7')).toMatchObject({ route: { index: 1 }, params: { id: '7' } });
    expect(find('GET', '/api/items?x=1')?.route.index).toBe(2);
    expect(find('GET', '/about')).toMatchObject({ route: { index: 3 }, params: { page: 'about' } });
    expect(find('GET', '/api/items/7/history')?.route.index).toBe(5);
  });

  it('prefers an earlier parameter-first route over a later literal one', () => {
    const t = compileRoutes(
      {
        version: 1,
        routes: [
          { match: '/:section/list', cache: { strategy: 'cache-first' } },
          { match: '/docs/list', cache: { strategy: 'network-first' } },
        ],
      },
      ORIGIN,
    );
    expect(findRoute(t, 'GET', new URL('/docs/list', ORIGIN))?.route.index).toBe(0);
  });

  it('routes by method', () => {
    expect(find('POST', '/api/items')?.route.index).toBe(2);
    expect(find('POST', '/api/items/7')).toBeUndefined();
    expect(find('DELETE', '/api/items')).toBeUndefined();
  });

  it('routes another origin only where a route names it', () => {
    expect(find('GET', 'https://cdn.example/img/a.png')?.route.index).toBe(4);
    expect(find('GET', 'https://cdn.example/other')).toBeUndefined();
    expect(find('GET', 'https://elsewhere.example/api/items')).toBeUndefined();
    expect(find('GET', 'http://app.example/api/items')).toBeUndefined();
  });

  it('never routes the manifest itself, even under a catch-all', () => {
    expect(find('GET', '/offline.manifest.json')).toBeUndefined();
    expect(find('GET', '/offline.manifest.json?v=2')).toBeUndefined();
  });
});
