/**
 * `offline-outbox doctor` run as a user runs it (dist/cli.mjs; `npm run build`
 * first) against real apps: the todo example, which does everything the
 * worker wants, and json-server 1.x set up as issue 12's adopter did, which
 * serves its pages and scripts `no-store`. Also what a user sees when the app
 * is not running, or the command is called wrong.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../cli/doctor-finding.js';
import { runCli } from '../support/cli.js';
import { freePort, type JsonServer, startJsonServer } from '../support/doctor-servers.js';
import { type Instance, kill, newKey, post, requireBuild, STARTUP_MS, startInstance } from '../server/support/todo-example.js';

interface Report {
  url: string;
  manifest: string | null;
  findings: Finding[];
  blockers: number;
}

const doctor = (...args: string[]) => runCli(tmpdir(), 'doctor', ...args);
const row = (findings: Finding[], check: string) => findings.filter((f) => f.check === check);

/** The first line of each table row, cut into its columns (check, subject's first line, verdict). */
function tableRows(stdout: string): [string, string, string][] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith('CHECK'));
  const end = lines.indexOf('', start);
  return lines
    .slice(start + 1, end)
    .filter((l) => l[0] !== ' ')
    .map((l) => [l.slice(0, 13).trim(), l.slice(13, 37).trim(), l.slice(37, 46).trim()]);
}

describe('offline-outbox doctor on the todo example', () => {
  let dir: string;
  let example: Instance;

  beforeAll(async () => {
    requireBuild();
    dir = await mkdtemp(join(tmpdir(), 'doctor-todo-'));
    example = await startInstance('doctor', { TODO_DATA: join(dir, 'todos.json') });
    // An item to look at (its ETag).
    expect((await example.api('api/todos', post({ title: 'Buy milk' }, newKey()))).status).toBe(201);
  }, STARTUP_MS + 5_000);

  afterAll(async () => {
    if (example) await kill(example.child, 'SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });

  it('finds no blocker: exit 0; idempotency, the feed and ETags ok', async () => {
    const { code, stdout, stderr } = await doctor(example.url);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const rows = tableRows(stdout);
    expect(rows.filter(([, , verdict]) => verdict === 'blocker')).toEqual([]);
    for (const check of ['idempotency', 'feed-stream', 'feed-since', 'etag', 'scope', 'worker', 'page'])
      expect(rows.filter(([c]) => c === check).map(([, , v]) => v)).toEqual(['ok']);
    expect(stdout.split('\n')[0]).toBe(`offline-outbox doctor ${example.url}`);
    expect(stdout.trimEnd().split('\n').at(-1)).toMatch(/^0 blockers, 0 warnings, 0 unknown, \d+ ok: no blocker$/);
    expect(Math.max(...stdout.split('\n').map((l) => l.length))).toBeLessThanOrEqual(100);
  });

  it('--json prints only JSON, with the findings the table shows', async () => {
    const table = await doctor(example.url);
    const { code, stdout } = await doctor(example.url, '--json');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as Report;
    expect(report).toMatchObject({ url: example.url, manifest: `${example.url}offline.manifest.json`, blockers: 0 });
    expect(row(report.findings, 'idempotency')).toEqual([expect.objectContaining({ subject: '/api/todos', verdict: 'ok' })]);
    expect(row(report.findings, 'idempotency')[0]!.seen).toMatch(/^Idempotency-Key-Supported: \?1 on /);
    expect(row(report.findings, 'etag')[0]!.seen).toMatch(/^strong ETag "/);
    expect(row(report.findings, 'feed-stream')[0]!.verdict).toBe('ok');
    expect(
      tableRows(table.stdout).map(([check, subject, verdict]) => {
        const f = report.findings.find((x) => x.check === check && x.subject.startsWith(subject) && x.verdict === verdict);
        return f ? 'found' : `${check} ${subject} ${verdict}`;
      }),
    ).toEqual(report.findings.map(() => 'found'));
    for (const f of report.findings) expect(Object.keys(f)).toEqual(['check', 'subject', 'verdict', 'seen', 'fix']);
  });
});

describe("offline-outbox doctor on json-server 1.x (issue 12's adopter)", () => {
  let dir: string;
  let server: JsonServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'doctor-json-server-'));
    // As the README says: init, then fit the manifest's example routes to the app's API (json-server serves /items).
    expect((await runCli(dir, 'init', 'public')).code).toBe(0);
    const manifest = join(dir, 'public', 'offline.manifest.json');
    await writeFile(manifest, (await readFile(manifest, 'utf8')).replaceAll('/api/items', '/items'));
    await writeFile(join(dir, 'db.json'), JSON.stringify({ items: [{ id: '1', title: 'Buy milk' }] }));
    await writeFile(join(dir, 'public', 'index.html'), '<!doctype html>\n<title>Items</title>\n<script src="/register.js" defer></script>\n<ul id="items"></ul>\n');
    server = await startJsonServer(dir);
  }, STARTUP_MS + 10_000);

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('exit 1: the page and register.js are no-store, blockers with the fix; idempotency unknown; no ETag warned', async () => {
    const { code, stdout } = await doctor(server.url, '--json');
    expect(code).toBe(1);
    const { findings, blockers } = JSON.parse(stdout) as Report;
    expect(findings.filter((f) => f.verdict === 'blocker')).toEqual([
      {
        check: 'page',
        subject: '/',
        verdict: 'blocker',
        seen: 'Cache-Control: no-store: will never be cached; the page will not open offline',
        fix: 'send "Cache-Control: no-cache" instead of no-store for / (the browser still revalidates it every time)',
      },
      {
        check: 'route',
        subject: '/register.js',
        verdict: 'blocker',
        seen: 'Cache-Control: no-store: will never be cached; /register.js will not load offline',
        fix: 'send "Cache-Control: no-cache" instead of no-store for /register.js (the browser still revalidates it every time)',
      },
    ]);
    expect(blockers).toBe(2);
    expect(row(findings, 'idempotency')).toEqual([expect.objectContaining({ subject: '/items', verdict: 'unknown' })]);
    expect(row(findings, 'etag')).toEqual([expect.objectContaining({ verdict: 'warn', seen: expect.stringMatching(/^no ETag on \/items\/1: conflicts go undetected/) })]);
    expect(row(findings, 'feed')).toEqual([expect.objectContaining({ verdict: 'unknown' })]);
  });

  it('prints the blockers in the table with their fix under them', async () => {
    const { code, stdout } = await doctor(server.url);
    expect(code).toBe(1);
    expect(stdout).toContain(
      [
        'page         /                       blocker  Cache-Control: no-store: will never be cached; the',
        '                                              page will not open offline',
        '             fix: send "Cache-Control: no-cache" instead of no-store for / (the browser still',
        '                  revalidates it every time)',
      ].join('\n'),
    );
    expect(Math.max(...stdout.split('\n').map((l) => l.length))).toBeLessThanOrEqual(100);
    expect(stdout.trimEnd().split('\n').at(-1)).toMatch(/^2 blockers, 1 warning, 2 unknown, \d+ ok: fix the blockers, then run doctor again$/);
  });
});

describe('offline-outbox doctor, called wrong or at nothing', () => {
  it('an app that is not running: one blocker saying so, exit 1, no stack trace', async () => {
    const url = `http://127.0.0.1:${await freePort()}/`;
    const { code, stdout, stderr } = await doctor(url);
    expect({ code, stderr }).toEqual({ code: 1, stderr: '' });
    expect(stdout).toContain('no answer: connection refused (ECONNREFUSED)');
    expect(stdout).toContain('fix: start the app, or check the URL (scheme, host and port) and run doctor again');
    expect(stdout).not.toMatch(/\n\s+at /);
  });

  it.each([
    [[], /^expected the app's URL, as in offline-outbox doctor http:\/\/localhost:5173\/; got 0 arguments\n/],
    [['localhost:5173/app'], /^localhost:5173\/app: expected an http: or https: URL\n/],
    [['/app'], /^"\/app" is not a URL; give the page's full URL/],
    [['http://localhost/', '--timeout', '0'], /^--timeout: expected a number of seconds, more than 0 and at most 600; got "0"\n/],
    [['http://localhost/', '--frobnicate'], /^Unknown option '--frobnicate'/],
  ])('doctor %j: exit 2 with the usage', async (args, message) => {
    const { code, stdout, stderr } = await doctor(...args);
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toMatch(message);
    expect(stderr.trimEnd().split('\n').at(-1)).toBe('usage: offline-outbox doctor <url> [--manifest <file>] [--sw <path>] [--json] [--timeout <seconds>]');
  });
});
