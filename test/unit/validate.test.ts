import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { fetchManifest } from '../../sw/manifest/load-manifest.js';
import { nearest } from '../../sw/manifest/suggest.js';
import { formatIssue, validateManifest } from '../../sw/manifest/validate.js';

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

  describe('suggests the name a misspelt value meant, for every list of names', () => {
    const STRATEGIES = 'network-first, stale-while-revalidate, cache-first, network-only, cache-only';
    const write = (queue: Record<string, unknown>) => route({ methods: ['POST'], cache: undefined, queue });

    it.each([
      [route({ cache: { strategy: 'netwrok-first' } }), `routes[0].cache.strategy: expected one of ${STRATEGIES}; got "netwrok-first" — did you mean "network-first"?`],
      [route({ cache: { strategy: 'Cache-First' } }), `routes[0].cache.strategy: expected one of ${STRATEGIES}; got "Cache-First" — did you mean "cache-first"?`],
      [route({ methods: ['GET', 'PSOT'] }), 'routes[0].methods[1]: expected one of GET, POST, PUT, PATCH, DELETE; got "PSOT" — did you mean "POST"?'],
      [route({ methods: ['get'] }), 'routes[0].methods[0]: expected one of GET, POST, PUT, PATCH, DELETE; got "get" — did you mean "GET"?'],
      [write({ priority: 'hihg' }), 'routes[0].queue.priority: expected one of high, normal, low or an integer 0-9; got "hihg" — did you mean "high"?'],
      [
        write({ conflict: 'server-win' }),
        'routes[0].queue.conflict: expected one of manual, server-wins, client-wins, newest-wins; got "server-win" — did you mean "server-wins"?',
      ],
      [write({ detect: 'ETag' }), 'routes[0].queue.detect: expected one of etag, none; got "ETag" — did you mean "etag"?'],
      [
        { ...route({}), resources: { todos: { collection: '/t', item: '/t/:id', ids: 'client-uid' } } },
        'resources.todos.ids: expected one of client-uuid, server; got "client-uid" — did you mean "client-uuid"?',
      ],
      [{ ...route({}), version: '1' }, 'version: expected one of 1; got "1" — did you mean 1?'],
    ])('%#: %s', (value, message) => {
      expect(problems(value)).toEqual([message]);
    });

    it('suggests nothing when no name is close: a far guess would mislead', () => {
      expect(problems(route({ methods: ['FETCH'] }))).toEqual(['routes[0].methods[0]: expected one of GET, POST, PUT, PATCH, DELETE; got "FETCH"']);
      expect(problems(write({ priority: 'urgent' }))).toEqual(['routes[0].queue.priority: expected one of high, normal, low or an integer 0-9; got "urgent"']);
      expect(problems(write({ priority: '5' }))).toEqual(['routes[0].queue.priority: expected one of high, normal, low or an integer 0-9; got "5"']);
      expect(problems(route({ cache: { strategy: 'fastest' } }))).toEqual([`routes[0].cache.strategy: expected one of ${STRATEGIES}; got "fastest"`]);
    });

    it('counts a swap of two letters as one slip, and ignores case', () => {
      expect(nearest('stratgey', ['strategy', 'statuses'])).toBe('strategy');
      expect(nearest('hihg', ['high', 'normal', 'low'])).toBe('high');
      expect(nearest('LOW', ['high', 'normal', 'low'])).toBe('low');
      expect(nearest('hi', ['high', 'normal', 'low'])).toBeUndefined();
      expect(nearest('FETCH', ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])).toBeUndefined();
    });
  });

  describe('reports one problem per mistake: a rule that needs a field waits until that field is right', () => {
    const STRATEGIES = 'network-first, stale-while-revalidate, cache-first, network-only, cache-only';
    const todos = { collection: '/t', item: '/t/:id', updatedAtField: 'updatedAt' };

    it('a misspelt strategy, with networkTimeoutSeconds: only the strategy', () => {
      expect(problems(route({ cache: { strategy: 'netwrok-first', networkTimeoutSeconds: 3 } }))).toEqual([
        `routes[0].cache.strategy: expected one of ${STRATEGIES}; got "netwrok-first" — did you mean "network-first"?`,
      ]);
      expect(problems(route({ cache: { strategy: 7, networkTimeoutSeconds: 3 } }))).toEqual([`routes[0].cache.strategy: expected one of ${STRATEGIES}; got 7`]);
    });

    it('a misspelt field name: the misspelling, not the field it meant as missing too', () => {
      expect(problems(route({ cache: { stratgey: 'network-first', networkTimeoutSeconds: 3 } }))).toEqual(['routes[0].cache.stratgey: unknown field; did you mean "strategy"?']);
      expect(problems(route({ cache: undefined, cahce: { strategy: 'network-first' } }))).toEqual(['routes[0].cahce: unknown field; did you mean "cache"?']);
      expect(problems({ version: 1, ruotes: [] })).toEqual(['ruotes: unknown field; did you mean "routes"?']);
      expect(problems({ ...route({}), resources: { todos: { collection: '/t', itme: '/t/:id' } } })).toEqual(['resources.todos.itme: unknown field; did you mean "item"?']);
    });

    it('misspelt or invalid methods: the methods, not what they would allow', () => {
      const queued = (extra: Record<string, unknown>) => route({ cache: undefined, queue: { priority: 'high' }, ...extra });
      expect(problems(queued({ method: ['POST'] }))).toEqual(['routes[0].method: unknown field; did you mean "methods"?']);
      expect(problems(queued({ methods: 'POST' }))).toEqual(['routes[0].methods: expected a non-empty array; got "POST"']);
      expect(problems(queued({ methods: [] }))).toEqual(['routes[0].methods: expected a non-empty array; got an array']);
      expect(problems(queued({ methods: ['POTS'] }))).toEqual(['routes[0].methods[0]: expected one of GET, POST, PUT, PATCH, DELETE; got "POTS" — did you mean "POST"?']);
    });

    it('still reports a second mistake that does not depend on the first', () => {
      expect(problems(route({ methods: ['FETCH'], resource: 'todos' }))).toEqual([
        'routes[0].methods[0]: expected one of GET, POST, PUT, PATCH, DELETE; got "FETCH"',
        'routes[0].resource: "todos" is not in resources (the manifest declares none)',
      ]);
    });

    it('a wrong resource for a newest-wins route: the reference, not the missing updatedAtField', () => {
      const newest = (extra: Record<string, unknown>, resources: Record<string, unknown> = { todos }) => ({
        version: 1,
        routes: [{ match: '/t/:id', methods: ['PUT'], queue: { conflict: 'newest-wins' }, ...extra }],
        resources,
      });
      expect(problems(newest({ resource: 'todo' }))).toEqual(['routes[0].resource: "todo" is not in resources; did you mean "todos"?']);
      expect(problems(newest({ resorce: 'todos' }))).toEqual(['routes[0].resorce: unknown field; did you mean "resource"?']);
      expect(problems(newest({ resource: 7 }))).toEqual(['routes[0].resource: expected a non-empty string; got 7']);
      expect(problems(newest({ resource: 'todos' }, { todos: { collection: '/t', item: '/t/:id', updatedAtFeild: 'updatedAt' } }))).toEqual([
        'resources.todos.updatedAtFeild: unknown field; did you mean "updatedAtField"?',
      ]);
      expect(problems(newest({ resource: 'todos' }, { todos: { collection: '/t', item: '/t/:id', updatedAtField: '' } }))).toEqual([
        'resources.todos.updatedAtField: expected a non-empty string; got ""',
      ]);
    });

    it('misspelt or invalid resources: the resources, not every route that names one', () => {
      const value = (extra: Record<string, unknown>) => ({ version: 1, routes: [{ match: '/t', methods: ['POST'], resource: 'todos' }], ...extra });
      expect(problems(value({ resource: { todos } }))).toEqual(['resource: unknown field; did you mean "resources"?']);
      expect(problems(value({ resources: [todos] }))).toEqual(['resources: expected an object; got an array']);
    });

    it('a misspelt or invalid origin: the origin, not the same-origin route it would then shadow', () => {
      const two = (extra: Record<string, unknown>) => ({
        version: 1,
        routes: [
          { match: '/img/*', cache: { strategy: 'cache-first' } },
          { match: '/img/*', cache: { strategy: 'cache-first' }, ...extra },
        ],
      });
      expect(problems(two({ orign: 'https://cdn.example.com' }))).toEqual(['routes[1].orign: unknown field; did you mean "origin"?']);
      expect(problems(two({ origin: 443 }))).toEqual([
        'routes[1].origin: expected an origin such as "https://api.example.com" (scheme, host and port; no path or trailing "/"); got 443',
      ]);
      expect(problems(two({}))).toEqual(['routes[1].match: GET /img/* is already routed by routes[0], so this route would never match it; merge the two or remove one']);
    });
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
      'routes[0].cache.strategy: expected one of network-first, stale-while-revalidate, cache-first, network-only, cache-only; got "cache-last" — did you mean "cache-first"?',
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

describe('fetchManifest', () => {
  it('on a 404, says how both kinds of user name the manifest: data-manifest on the script tag, ?manifest= on the worker', async () => {
    const server = createServer((_, res) => res.writeHead(404).end('not found'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/offline.manifest.json`;
      await expect(fetchManifest(url)).rejects.toMatchObject({
        name: 'OutboxError',
        code: 'manifest-unreachable',
        message: `could not load the manifest ${url} (HTTP 404); serve offline.manifest.json beside sw.js, or set data-manifest="<url>" on the register.js script tag (or register the worker with ?manifest=<url>)`,
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
