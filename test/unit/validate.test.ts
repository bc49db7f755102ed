import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatIssue, nearest, validateManifest } from '../../sw/manifest/validate.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/manifests/${name}`, import.meta.url), 'utf8'));
const route = (extra: Record<string, unknown>) => ({ version: 1, routes: [{ match: '/api/items', cache: { strategy: 'network-first' }, ...extra }] });
const problems = (value: unknown) => validateManifest(value).issues.map(formatIssue);

describe('validateManifest', () => {
  it('accepts the manifest DESIGN.md shows, and returns it', () => {
    const value = fixture('good.json');
    expect(validateManifest(value)).toEqual({ ok: true, manifest: value, issues: [] });
  });

  it('reports every problem with its path and a stable code, not only the first', () => {
    const result = validateManifest(fixture('bad-many.json'));
    expect(result.ok).toBe(false);
    expect(result.issues.map((i) => [i.path, i.code])).toEqual([
      ['extra', 'unknown-field'],
      ['version', 'bad-value'],
      ['routes[0].match', 'bad-value'],
      ['routes[0].methods[0]', 'bad-value'],
      ['routes[1].cache.strategy', 'bad-value'],
      ['routes[1].cache.maxEntries', 'bad-value'],
      ['routes[2].match', 'missing-field'],
      ['routes[2].queue.maxAttempts', 'bad-value'],
    ]);
  });

  it('names what was expected and what was found', () => {
    expect(problems(route({ methods: ['POST'], cache: undefined, queue: { priority: 'urgent' } }))).toEqual([
      'routes[0].queue.priority: expected one of high, normal, low or an integer 0-9; got "urgent"',
    ]);
    expect(problems(route({ methods: ['POST'], cache: undefined, queue: { priority: 12 } }))).toEqual([
      'routes[0].queue.priority: expected one of high, normal, low or an integer 0-9; got 12',
    ]);
    expect(validateManifest(route({ methods: ['POST'], cache: undefined, queue: { priority: 0 } })).ok).toBe(true);
    expect(problems(route({ cache: { strategy: 'network-first', networkTimeoutSeconds: '3' } }))).toEqual([
      'routes[0].cache.networkTimeoutSeconds: expected a number of seconds > 0; got "3"',
    ]);
    expect(problems({ version: 1, routes: [] })).toEqual(['routes: expected a non-empty array; got an array']);
  });

  it('suggests the nearest known field for an unknown one', () => {
    expect(problems(route({ methds: ['GET'] }))).toEqual(['routes[0].methds: unknown field; did you mean "methods"?']);
    expect(problems(route({ Resource: 'x' }))[0]).toBe('routes[0].Resource: unknown field; did you mean "resource"?');
    expect(problems(route({ zzz: 1 }))).toEqual(['routes[0].zzz: unknown field; expected one of match, origin, methods, cache, queue, resource']);
    expect(nearest('strategie', ['strategy', 'statuses'])).toBe('strategy');
    expect(nearest('qqqqqq', ['cache'])).toBeUndefined();
  });

  it('checks references to resources', () => {
    expect(problems(route({ methods: ['POST'], cache: undefined, resource: 'todos' }))).toEqual(['routes[0].resource: "todos" is not in resources (the manifest declares none)']);
    const value = {
      ...route({ methods: ['POST'], cache: undefined, resource: 'users' }),
      resources: { todos: { collection: '/t', item: '/t/:id' }, notes: { collection: '/n', item: '/n/:id' } },
    };
    expect(problems(value)).toEqual(['routes[0].resource: "users" is not in resources (todos, notes)']);
  });

  it('an item pattern names its id with exactly one parameter', () => {
    const withItem = (item: string) => ({ ...route({}), resources: { todos: { collection: '/t', item } } });
    expect(problems(withItem('/t/:id'))).toEqual([]);
    expect(problems(withItem('/t/:id/edit'))).toEqual([]);
    for (const item of ['/t/all', '/lists/:list/t/:id', '/t/:id?', '/t/*'])
      expect(problems(withItem(item))).toEqual([`resources.todos.item: the item pattern names its id with one parameter, as in "/api/todos/:id"; got ${JSON.stringify(item)}`]);
  });

  it("newest-wins needs the route's resource to name its updatedAtField", () => {
    const write = (resource?: Record<string, unknown>) => ({
      version: 1,
      routes: [{ match: '/t/:id', methods: ['PUT'], queue: { conflict: 'newest-wins' }, ...(resource ? { resource: 'todos' } : {}) }],
      ...(resource ? { resources: { todos: { collection: '/t', item: '/t/:id', ...resource } } } : {}),
    });
    const message = 'routes[0].queue.conflict: "newest-wins" needs the resource\'s updatedAtField; add "resource" to this route and "updatedAtField" to the resource';
    expect(problems(write())).toEqual([message]);
    expect(problems(write({}))).toEqual([message]);
    expect(problems(write({ updatedAtField: 'modified' }))).toEqual([]);
  });

  it('rejects duplicates in lists', () => {
    expect(problems(route({ methods: ['GET', 'GET'] }))).toEqual(['routes[0].methods[1]: "GET" is listed twice']);
  });

  it('does not cascade: bad methods give one problem, not a second about cache', () => {
    expect(problems(route({ methods: ['FETCH'] }))).toEqual(['routes[0].methods[0]: expected one of GET, POST, PUT, PATCH, DELETE; got "FETCH"']);
  });

  it('takes "cache-only", which never waits for the network', () => {
    expect(problems(route({ cache: { strategy: 'cache-only', maxEntries: 10 } }))).toEqual([]);
    expect(problems(route({ cache: { strategy: 'cache-only', networkTimeoutSeconds: 3 } }))).toEqual([
      'routes[0].cache.networkTimeoutSeconds: only network-first and network-only wait for the network; remove it or change the strategy (got "cache-only")',
    ]);
    expect(problems(route({ cache: { strategy: 'cache-last' } }))).toEqual([
      'routes[0].cache.strategy: expected one of network-first, stale-while-revalidate, cache-first, network-only, cache-only; got "cache-last"',
    ]);
    expect(problems(route({ cache: {} }))).toEqual([
      'routes[0].cache.strategy: required; add "strategy": "network-first" (or stale-while-revalidate, cache-first, network-only, cache-only)',
    ]);
  });

  it('takes "$schema" (any string: editors read it, the worker does not) and "workboxQueues" (unique queue names)', () => {
    const value = { $schema: '../node_modules/offline-outbox/dist/manifest.schema.json', ...route({}), workboxQueues: ['workbox-background-sync', 'uploads'] };
    expect(validateManifest(value)).toEqual({ ok: true, manifest: value, issues: [] });
    expect(problems({ ...route({}), $schema: '', workboxQueues: [] })).toEqual([]);
    expect(problems({ ...route({}), $schema: { url: 'x' } })).toEqual(['$schema: expected a string (the URL or path of the JSON Schema); got an object']);
    expect(problems({ ...route({}), workboxQueues: 'uploads' })).toEqual(['workboxQueues: expected an array; got "uploads"']);
    expect(problems({ ...route({}), workboxQueues: ['uploads', '', 7, 'uploads'] })).toEqual([
      'workboxQueues[1]: expected a non-empty string; got ""',
      'workboxQueues[2]: expected a non-empty string; got 7',
      'workboxQueues[3]: "uploads" is listed twice',
    ]);
  });

  it('lists the new top-level fields among those it knows', () => {
    expect(problems({ ...route({}), precahce: ['/'] })).toEqual(['precahce: unknown field; did you mean "precache"?']);
    expect(problems({ ...route({}), zzz: 1 })).toEqual(['zzz: unknown field; expected one of version, routes, resources, changes, precache, workboxQueues, $schema']);
  });

  describe('precache', () => {
    const shell = (
      precache: unknown,
      routes: unknown[] = [
        { match: '/', cache: { strategy: 'network-first' } },
        { match: '/assets/*', cache: { strategy: 'cache-only' } },
      ],
    ) => ({ version: 1, routes, precache });

    it('takes same-origin paths, with a query or not, that a GET route answering from the cache serves', () => {
      expect(problems(shell(['/', '/?lang=en', '/assets/app.css', '/assets/app.js?v=3', '/assets/a/b/c.svg']))).toEqual([]);
      expect(problems(shell([]))).toEqual([]);
      for (const strategy of ['network-first', 'stale-while-revalidate', 'cache-first', 'cache-only'])
        expect(problems(shell(['/x'], [{ match: '/x', cache: { strategy } }]))).toEqual([]);
    });

    it('reports what is not a same-origin path, and duplicates', () => {
      expect(problems(shell(['app.css', '//cdn.example.com/x.js', 'https://example.com/', '/#top', 5, '/', '/']))).toEqual([
        'precache[0]: expected a same-origin path starting with "/", as in "/app.css" (a query string may follow; no "#"); got "app.css"',
        'precache[1]: expected a same-origin path starting with "/", as in "/app.css" (a query string may follow; no "#"); got "//cdn.example.com/x.js"',
        'precache[2]: expected a same-origin path starting with "/", as in "/app.css" (a query string may follow; no "#"); got "https://example.com/"',
        'precache[3]: expected a same-origin path starting with "/", as in "/app.css" (a query string may follow; no "#"); got "/#top"',
        'precache[4]: expected a same-origin path starting with "/", as in "/app.css" (a query string may follow; no "#"); got 5',
        'precache[6]: "/" is listed twice',
      ]);
      expect(problems(shell('/'))).toEqual(['precache: expected an array; got "/"']);
    });

    it('reads paths as the URL parser does: "/\\host" and "/<tab>/host" name another host, for precache and the change feed alike', () => {
      for (const url of ['/\\evil.example.com/x', '/\t/evil.example.com/x', '/\n\\evil.example.com', '/\\'])
        expect(problems(shell([url]))).toEqual([
          `precache[0]: expected a same-origin path starting with "/", as in "/app.css" (a query string may follow; no "#"); got ${JSON.stringify(url)}`,
        ]);
      expect(problems({ ...route({}), changes: { stream: '/\\evil.example.com/feed' } })).toEqual([
        'changes.stream: expected a same-origin path starting with "/"; got "/\\\\evil.example.com/feed"',
      ]);
      expect(problems(shell(['/a\\b', '/a\tb'], [{ match: '/*', cache: { strategy: 'cache-first' } }]))).toEqual([]);
    });

    it('reports a URL no GET route serves, and says which route to add', () => {
      const routes = [
        { match: '/', cache: { strategy: 'network-first' } },
        { match: '/app.css', methods: ['POST'], queue: {} },
        { match: '/app.js', origin: 'https://cdn.example.com', cache: { strategy: 'cache-first' } },
      ];
      expect(problems(shell(['/app.css', '/app.js?v=2'], routes))).toEqual([
        'precache[0]: no GET route that caches matches "/app.css", so it would never be served from the cache; add a route such as { "match": "/app.css", "cache": { "strategy": "cache-first" } }',
        'precache[1]: no GET route that caches matches "/app.js?v=2", so it would never be served from the cache; add a route such as { "match": "/app.js", "cache": { "strategy": "cache-first" } }',
      ]);
    });

    it('routes each URL as the worker does, first match wins: a network-only route before a caching one takes it', () => {
      const routes = [
        { match: '/api/*', cache: { strategy: 'network-only' } },
        { match: '/api/config', cache: { strategy: 'cache-first' } },
      ];
      expect(problems(shell(['/api/config'], routes))).toEqual([
        'precache[0]: no GET route that caches matches "/api/config": routes[0] serves it "network-only", never from the cache; change its strategy, or add a route before it such as { "match": "/api/config", "cache": { "strategy": "cache-first" } }',
      ]);
      expect(problems(shell(['/api/config'], routes.slice().reverse()))).toEqual([]);
    });

    it('does not cascade: with a route broken, only the route is reported', () => {
      expect(problems(shell(['/app.css'], [{ match: '/app.(css)', cache: { strategy: 'cache-first' } }]))).toEqual([
        'routes[0].match: "(" at 5: custom groups, regular expressions and modifiers are not supported; use ":name", ":name?" or "*"',
      ]);
      expect(problems(shell(['/app.css'], [{ match: '/app.css', methods: ['FETCH'], cache: { strategy: 'cache-first' } }]))).toHaveLength(1);
      // A route matched whose strategy is misspelled: its strategy is the problem.
      expect(problems(shell(['/app.css'], [{ match: '/app.css', cache: { strategy: 'cache-frist' } }]))).toHaveLength(1);
    });
  });

  it('treats the manifest as data: non-objects are reported, never thrown', () => {
    for (const value of [null, 42, 'x', [], true, undefined]) expect(validateManifest(value).ok).toBe(false);
    expect(problems(null)).toEqual(['expected an object; got null']);
    expect(problems({ version: 1, routes: [null, 'x'] })).toEqual(['routes[0]: expected an object; got null', 'routes[1]: expected an object; got "x"']);
  });
});
