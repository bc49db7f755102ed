import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
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
