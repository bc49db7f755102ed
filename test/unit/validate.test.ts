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
    expect(problems(route({ methods: ['POST'], cache: undefined, resource: 'todos' }))).toEqual([
      'routes[0].resource: "todos" is not in resources (the manifest declares none)',
    ]);
    const value = { ...route({ methods: ['POST'], cache: undefined, resource: 'users' }), resources: { todos: { collection: '/t', item: '/t/:id' }, notes: { collection: '/n', item: '/n/:id' } } };
    expect(problems(value)).toEqual(['routes[0].resource: "users" is not in resources (todos, notes)']);
  });

  it('an item pattern names its id with exactly one parameter', () => {
    const withItem = (item: string) => ({ ...route({}), resources: { todos: { collection: '/t', item } } });
    expect(problems(withItem('/t/:id'))).toEqual([]);
    expect(problems(withItem('/t/:id/edit'))).toEqual([]);
    for (const item of ['/t/all', '/lists/:list/t/:id', '/t/:id?', '/t/*'])
      expect(problems(withItem(item))).toEqual([`resources.todos.item: the item pattern names its id with one parameter, as in "/api/todos/:id"; got ${JSON.stringify(item)}`]);
  });

  it('newest-wins needs the route\'s resource to name its updatedAtField', () => {
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

  it('treats the manifest as data: non-objects are reported, never thrown', () => {
    for (const value of [null, 42, 'x', [], true, undefined]) expect(validateManifest(value).ok).toBe(false);
    expect(problems(null)).toEqual(['expected an object; got null']);
    expect(problems({ version: 1, routes: [null, 'x'] })).toEqual(['routes[0]: expected an object; got null', 'routes[1]: expected an object; got "x"']);
  });
});
