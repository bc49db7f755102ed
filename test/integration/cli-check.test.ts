import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const fixtures = fileURLToPath(new URL('../fixtures/manifests/', import.meta.url));
const badOnes = readdirSync(fixtures).filter((f) => f.startsWith('bad-') && f.endsWith('.json'));

const check = (...args: string[]) => runCli(fixtures, ...args);

describe('offline-outbox check', () => {
  it('has a dozen bad fixtures, each with its expected output', () => {
    expect(badOnes.length).toBeGreaterThanOrEqual(12);
  });

  it.each(badOnes)('%s: prints every problem and exits 1', async (file) => {
    const expected = readFileSync(`${fixtures}${file.replace(/\.json$/, '.expected')}`, 'utf8');
    const { code, stdout, stderr } = await check('check', file);
    expect(stderr).toBe(expected);
    expect(stdout).toBe('');
    expect(code).toBe(1);
  });

  it('prints one line per route for a good manifest and exits 0', async () => {
    const { code, stdout } = await check('check', 'good.json');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('good.json: valid, 7 routes');
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 4))).toEqual([
      ['routes[0]', 'GET', '/api/todos', 'cache network-first (timeout 3 s, max 500 entries, max age 604800 s)'],
      ['routes[1]', 'GET', '/api/todos/:id', 'cache stale-while-revalidate'],
      ['routes[2]', 'POST', '/api/todos', 'queue priority high'],
      ['routes[3]', 'PUT,PATCH,DELETE', '/api/todos/:id', 'queue priority normal, conflict manual'],
      ['routes[4]', 'POST', '/api/events', 'queue priority low'],
      ['routes[5]', 'GET', 'https://cdn.example.com/avatars/*', 'cache cache-first (stores 0/200)'],
      ['routes[6]', 'GET', '/', 'cache network-first'],
    ]);
  });

  it('takes every field a manifest may have (good-everything.json)', async () => {
    const { code, stdout, stderr } = await check('check', 'good-everything.json');
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout.split('\n')[0]).toBe('good-everything.json: valid, 10 routes');
    expect(stdout).toContain('routes[2]  GET     /assets/*  cache cache-only');
  });

  it('says when the file cannot be read, and how to call it', async () => {
    expect(await check('check', 'missing.json')).toEqual({ code: 1, stdout: '', stderr: 'missing.json: cannot read it (ENOENT)\n' });
    expect((await check('check')).code).toBe(2);
    expect((await check('frobnicate')).stderr).toMatch(/^offline-outbox: unknown command "frobnicate"/);
  });
});

describe('offline-outbox check, on the mistakes people make by hand', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'offline-outbox-check-'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  /** Writes `text` as m.json and checks it. */
  const checkText = (text: string) => {
    writeFileSync(join(tmp, 'm.json'), text);
    return runCli(tmp, 'check', 'm.json');
  };
  const STRATEGIES = 'network-first, stale-while-revalidate, cache-first, network-only, cache-only';

  it('a mistyped strategy with networkTimeoutSeconds: one problem, with "did you mean"', async () => {
    const manifest = { version: 1, routes: [{ match: '/api/todos', cache: { strategy: 'netwrok-first', networkTimeoutSeconds: 3 } }] };
    expect(await checkText(JSON.stringify(manifest, null, 2))).toEqual({
      code: 1,
      stdout: '',
      stderr: [`m.json: routes[0].cache.strategy: expected one of ${STRATEGIES}; got "netwrok-first" — did you mean "network-first"?`, '1 problem in m.json', ''].join('\n'),
    });
  });

  it('a slip in each list of names and in field names: one problem each, each with the name it meant', async () => {
    const manifest = {
      version: 1,
      routes: [
        { match: '/api/a', methods: ['GET', 'PSOT'], cache: { stratgey: 'network-first' } },
        { match: '/api/b', methods: ['POST'], queue: { priority: 'hihg', conflict: 'client-wnis', detect: 'Etag' }, resource: 'todo' },
        { match: '/api/c', cahce: { strategy: 'cache-first' } },
      ],
      resources: { todos: { collection: '/t', item: '/t/:id', ids: 'server-id' } },
    };
    const { code, stderr } = await checkText(JSON.stringify(manifest, null, 2));
    expect(code).toBe(1);
    expect(stderr.split('\n')).toEqual([
      'm.json: routes[0].methods[1]: expected one of GET, POST, PUT, PATCH, DELETE; got "PSOT" — did you mean "POST"?',
      'm.json: routes[0].cache.stratgey: unknown field; did you mean "strategy"?',
      'm.json: routes[1].queue.priority: expected one of high, normal, low or an integer 0-9; got "hihg" — did you mean "high"?',
      'm.json: routes[1].queue.conflict: expected one of manual, server-wins, client-wins, newest-wins; got "client-wnis" — did you mean "client-wins"?',
      'm.json: routes[1].queue.detect: expected one of etag, none; got "Etag" — did you mean "etag"?',
      'm.json: routes[2].cahce: unknown field; did you mean "cache"?',
      'm.json: resources.todos.ids: expected one of client-uuid, server; got "server-id" — did you mean "server"?',
      'm.json: routes[1].resource: "todo" is not in resources; did you mean "todos"?',
      '8 problems in m.json',
      '',
    ]);
  });

  it.each([
    [
      'a missing comma between properties, at the end of the value before it',
      '{\n  "version": 1,\n  "routes": [\n    { "match": "/", "cache": { "strategy": "network-first" }\n      "methods": ["GET"] }\n  ]\n}\n',
      'm.json:4:61: JSON syntax error: a comma is missing after routes[0].cache, before "methods" on line 5',
    ],
    [
      'a missing comma between routes',
      '{ "version": 1, "routes": [\n  { "match": "/a", "cache": { "strategy": "network-first" } }\n  { "match": "/b", "cache": { "strategy": "network-first" } }\n] }\n',
      'm.json:2:62: JSON syntax error: a comma is missing after routes[0], before the next element on line 3',
    ],
    [
      'a trailing comma, at the comma',
      '{ "version": 1, "routes": [\n  { "match": "/", "cache": { "strategy": "network-first" } },\n] }\n',
      'm.json:2:61: JSON syntax error: trailing comma after routes[0]; remove it (JSON allows no comma before "]")',
    ],
    [
      'single quotes',
      `{ "version": 1, "routes": [{ "match": '/', "cache": { "strategy": "network-first" } }] }\n`,
      `m.json:1:39: JSON syntax error: single quotes: JSON strings and property names take double quotes; write "/", not '/'`,
    ],
    ['a comment', '{\n  // offline reads\n  "version": 1, "routes": []\n}\n', 'm.json:2:3: JSON syntax error: JSON has no comments; remove this one'],
    ['an unquoted property name', '{ version: 1, "routes": [] }\n', 'm.json:1:3: JSON syntax error: the property name version needs double quotes: write "version"'],
  ])('a JSON syntax error names its cause: %s', async (_, text, line) => {
    expect(await checkText(text)).toEqual({ code: 1, stdout: '', stderr: `${line}\n` });
  });
});
