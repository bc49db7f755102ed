/**
 * `offline-outbox doctor` against a small app (test/support/doctor-servers.ts)
 * that is healthy but for one defect at a time: each defect is found, with
 * its verdict and fix, and nothing else is. Runs the built command (dist/cli.mjs).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../cli/doctor-finding.js';
import { runCli } from '../support/cli.js';
import { type AppDefects, appManifest, startApp } from '../support/doctor-servers.js';

interface Diagnosis {
  /** The app's page. */
  url: string;
  code: number;
  stderr: string;
  findings: Finding[];
  blockers: Finding[];
  /** What the app was asked, as `METHOD /path`. */
  requests: string[];
}

const fixtures = fileURLToPath(new URL('../fixtures/manifests/', import.meta.url));

/** Starts the app with `defects`, runs `doctor <its url> --json ...args` (in `cwd`), stops the app. */
async function diagnose(defects: AppDefects, ...args: string[]): Promise<Diagnosis> {
  return diagnoseIn(tmpdir(), defects, ...args);
}

async function diagnoseIn(cwd: string, defects: AppDefects, ...args: string[]): Promise<Diagnosis> {
  const app = await startApp(defects);
  try {
    const { code, stdout, stderr } = await runCli(cwd, 'doctor', app.url, '--json', ...args);
    const report = JSON.parse(stdout) as { findings: Finding[]; blockers: number };
    const blockers = report.findings.filter((f) => f.verdict === 'blocker');
    expect(report.blockers).toBe(blockers.length);
    return { url: app.url, code, stderr, findings: report.findings, blockers, requests: [...app.requests] };
  } finally {
    await app.close();
  }
}

const only = (findings: Finding[], check: string, subject?: string) => findings.filter((f) => f.check === check && (subject === undefined || f.subject === subject));

describe('offline-outbox doctor on an app with one defect', () => {
  it('finds nothing wrong with the healthy app, and never sends a write', async () => {
    const { url, code, stderr, findings, requests } = await diagnose({});
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(findings.filter((f) => f.verdict !== 'ok')).toEqual([]);
    expect(findings.map((f) => `${f.check} ${f.subject}`)).toEqual([
      'script-tag /',
      `origin ${new URL(url).origin}`,
      'worker /sw.js',
      'scope /',
      'manifest /offline.manifest.json',
      'page /',
      'route /style.css',
      'route /register.js',
      'route /api/todos',
      'resource todos',
      'etag /api/todos/:id',
      'feed-stream /api/changes/stream',
      'feed-since /api/changes?since={cursor}',
      'idempotency /api/todos',
    ]);
    expect(new Set(requests.map((r) => r.split(' ')[0]))).toEqual(new Set(['GET', 'OPTIONS']));
    expect(requests).toContain('OPTIONS /api/todos');
  });

  describe('register.js and sw.js in a sub-folder (/static), the page at /', () => {
    it('without data-scope: the page is outside the scope, a blocker naming data-scope and Service-Worker-Allowed, or moving sw.js', async () => {
      const { code, blockers } = await diagnose({ folder: '/static' });
      expect(code).toBe(1);
      expect(blockers).toEqual([
        {
          check: 'scope',
          subject: '/static/',
          verdict: 'blocker',
          seen: "the page / is outside the worker's scope /static/ (the folder of /static/sw.js): the worker will never control it, nothing is cached or queued",
          fix: 'add data-scope="/" to the register.js tag and send "Service-Worker-Allowed: /" with /static/sw.js; or move sw.js to / and point at it with data-sw="/sw.js"',
        },
      ]);
    });

    it('with data-scope="/" and no Service-Worker-Allowed: the browser refuses the scope, a blocker with the header to send', async () => {
      const { code, blockers } = await diagnose({ folder: '/static', dataScope: '/' });
      expect(code).toBe(1);
      expect(blockers).toHaveLength(1);
      expect(blockers[0]).toMatchObject({ check: 'scope', subject: '/' });
      expect(blockers[0]!.seen).toMatch(/browsers refuse to register the worker/);
      expect(blockers[0]!.fix).toBe('send "Service-Worker-Allowed: /" with /static/sw.js, or move sw.js to / and point at it with data-sw="/sw.js"');
    });

    it('with data-scope="/" and Service-Worker-Allowed: / sent: no blocker', async () => {
      const { code, findings } = await diagnose({ folder: '/static', dataScope: '/', serviceWorkerAllowed: '/' });
      expect(code).toBe(0);
      expect(only(findings, 'scope')).toEqual([expect.objectContaining({ subject: '/', verdict: 'ok' })]);
      expect(only(findings, 'worker')).toEqual([expect.objectContaining({ subject: '/static/sw.js', verdict: 'ok' })]);
    });
  });

  it('sw.js served as text/html: a blocker, the Content-Type to send', async () => {
    const { code, blockers } = await diagnose({ workerType: 'text/html; charset=utf-8' });
    expect(code).toBe(1);
    expect(blockers).toEqual([
      {
        check: 'worker',
        subject: '/sw.js',
        verdict: 'blocker',
        seen: 'Content-Type: text/html; charset=utf-8: browsers refuse to register a worker script that is not served as JavaScript',
        fix: 'send "Content-Type: text/javascript" with /sw.js',
      },
    ]);
  });

  it('the manifest answers 404: a blocker naming where it looked and data-manifest; nothing probed against a manifest it has not got', async () => {
    const { code, findings, blockers } = await diagnose({ noManifest: true });
    expect(code).toBe(1);
    expect(blockers).toEqual([
      {
        check: 'manifest',
        subject: '/offline.manifest.json',
        verdict: 'blocker',
        seen: "answers 404 (looked there as the default: offline.manifest.json beside /sw.js): the worker's install fails",
        fix: 'serve it at /offline.manifest.json, or point at it: data-manifest="/path/to/offline.manifest.json" on the register.js tag (or run doctor with --manifest <file>)',
      },
    ]);
    expect(findings.map((f) => f.check)).toEqual(['script-tag', 'origin', 'worker', 'scope', 'manifest']);
  });

  it("a served manifest that is not valid: a blocker with check's lines", async () => {
    const { code, blockers } = await diagnose({ manifestText: '{ "version": 1, "routes": [] ' });
    expect(code).toBe(1);
    expect(blockers).toEqual([
      {
        check: 'manifest',
        subject: '/offline.manifest.json',
        verdict: 'blocker',
        // check's wording of the error is its own (cli-check.test.ts); here, that it is check's line, located in the served file.
        seen: expect.stringMatching(/^\/offline\.manifest\.json:1:\d+: JSON syntax error: .+\n\(an invalid manifest fails the worker's install\)$/),
        fix: 'fix the manifest; npx offline-outbox check <file> lists the same',
      },
    ]);
  });

  it('--manifest <file>: probes against that file instead; an invalid one is a blocker with exactly what check prints', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'doctor-manifest-'));
    try {
      await writeFile(join(dir, 'local.json'), JSON.stringify(appManifest()));
      const local = await diagnoseIn(dir, { noManifest: true }, '--manifest', 'local.json');
      expect(local.code).toBe(0);
      expect(only(local.findings, 'manifest')).toEqual([{ check: 'manifest', subject: 'local.json', verdict: 'ok', seen: 'valid, 7 routes (--manifest)', fix: '' }]);
      expect(local.requests).not.toContain('GET /offline.manifest.json');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const bad = await diagnoseIn(fixtures, {}, '--manifest', 'bad-priority.json');
    expect(bad.code).toBe(1);
    expect(bad.blockers).toEqual([
      expect.objectContaining({ check: 'manifest', subject: 'bad-priority.json', seen: (await readFile(`${fixtures}bad-priority.expected`, 'utf8')).trimEnd() }),
    ]);
  });

  it('a page without the register.js tag: a warning with the tag to add; sw.js looked for beside the page', async () => {
    const { code, findings } = await diagnose({ noTag: true });
    expect(code).toBe(0);
    expect(only(findings, 'script-tag')).toEqual([
      {
        check: 'script-tag',
        subject: '/',
        verdict: 'warn',
        seen: 'no <script src=…register.js> on the page: nothing registers the worker here (looked for /sw.js beside the page)',
        fix: 'add <script src="/register.js" defer></script> to the page (with data-sw="…" if sw.js is not beside it)',
      },
    ]);
    expect(only(findings, 'worker')).toEqual([expect.objectContaining({ subject: '/sw.js', verdict: 'ok' })]);
  });

  it('--sw overrides where the worker is (its manifest beside it, its folder the scope)', async () => {
    const { findings, requests } = await diagnose({ noTag: true, folder: '/static' }, '--sw', '/static/sw.js');
    expect(only(findings, 'worker')).toEqual([expect.objectContaining({ subject: '/static/sw.js', verdict: 'ok' })]);
    expect(only(findings, 'manifest')).toEqual([expect.objectContaining({ subject: '/static/offline.manifest.json', verdict: 'ok' })]);
    expect(only(findings, 'scope')).toEqual([expect.objectContaining({ subject: '/static/', verdict: 'blocker' })]);
    expect(requests).not.toContain('GET /sw.js');
  });

  it('a weak ETag: a warning that If-Match needs a strong one; exit 0', async () => {
    const { code, findings } = await diagnose({ etag: 'weak' });
    expect(code).toBe(0);
    expect(only(findings, 'etag')).toEqual([
      {
        check: 'etag',
        subject: '/api/todos/:id',
        verdict: 'warn',
        seen: 'weak ETag W/"v1" on /api/todos/1: If-Match needs a strong one, so conflicts go undetected',
        fix: 'send a strong ETag (without W/) with GET /api/todos/:id; If-Match compares strong tags only',
      },
    ]);
  });

  it('no ETag: a warning that conflicts go undetected', async () => {
    const { findings } = await diagnose({ etag: 'none' });
    expect(only(findings, 'etag')).toEqual([
      expect.objectContaining({ verdict: 'warn', seen: "no ETag on /api/todos/1: conflicts go undetected: a queued edit will overwrite someone else's change" }),
    ]);
  });

  it('an event stream with the wrong Content-Type: a blocker', async () => {
    const { code, blockers } = await diagnose({ stream: 'wrong-type' });
    expect(code).toBe(1);
    expect(blockers).toEqual([expect.objectContaining({ check: 'feed-stream', subject: '/api/changes/stream' })]);
    expect(blockers[0]!.seen).toMatch(/^Content-Type: application\/json; charset=utf-8: EventSource accepts only text\/event-stream/);
    expect(blockers[0]!.fix).toMatch(/^answer GET \/api\/changes\/stream with "Content-Type: text\/event-stream"/);
  });

  it('an event stream that sends nothing within --timeout 1: a warning naming X-Accel-Buffering and a comment on connect', async () => {
    const { code, findings } = await diagnose({ stream: 'silent' }, '--timeout', '1');
    expect(code).toBe(0);
    const [row] = only(findings, 'feed-stream');
    expect(row).toMatchObject({ verdict: 'warn', seen: 'nothing arrived within 1 s: buffered by a proxy, or the server sends nothing on connect' });
    expect(row!.fix).toContain('"X-Accel-Buffering: no"');
    expect(row!.fix).toContain('comment line');
  });

  it('`since` answering another shape: a blocker saying what the worker reads', async () => {
    const { code, blockers } = await diagnose({ wrongSince: true });
    expect(code).toBe(1);
    expect(blockers).toEqual([expect.objectContaining({ check: 'feed-since', subject: '/api/changes?since={cursor}' })]);
    expect(blockers[0]!.seen).toBe('expected {"notices": [...], "cursor": "…"} or {"reset": true, "cursor": "…"}; got an object with events: the worker\'s catch-up fails');
  });

  it('Vary: * on a cached route: a blocker (the Cache API refuses it)', async () => {
    const { code, blockers } = await diagnose({ varyStar: true });
    expect(code).toBe(1);
    expect(blockers).toEqual([
      {
        check: 'route',
        subject: '/api/todos',
        verdict: 'blocker',
        seen: 'Vary: *: the Cache API refuses to store it; reads of /api/todos will not work offline',
        fix: 'drop "Vary: *" for /api/todos; name the request headers the answer depends on instead (e.g. "Vary: Accept-Encoding")',
      },
    ]);
  });

  it('a cached route answering 302: a warning naming where it points and the URL to list instead', async () => {
    const { code, findings } = await diagnose({ redirectRoute: true });
    expect(code).toBe(0);
    expect(only(findings, 'route', '/old')).toEqual([
      {
        check: 'route',
        subject: '/old',
        verdict: 'warn',
        seen: 'answers 302 → /new: the worker stores only 2xx',
        fix: 'list the final URL (/new) in the manifest instead of /old',
      },
    ]);
  });

  it('a Cache-Control: private answer on a route without "private": true: a blocker, both fixes', async () => {
    const { code, blockers } = await diagnose({ privateRoute: true });
    expect(code).toBe(1);
    expect(blockers).toEqual([
      {
        check: 'route',
        subject: '/api/me',
        verdict: 'blocker',
        seen: 'Cache-Control: private, max-age=60, and routes[7] (network-first) does not allow private answers: will never be cached; reads of /api/me will not work offline',
        fix: 'send "Cache-Control: no-cache" without private for /api/me, or add "private": true to routes[7].cache if this device may keep it',
      },
    ]);
  });

  it('no Idempotency-Key-Supported anywhere: unknown, pointing at "What your server should support"', async () => {
    const { code, findings } = await diagnose({ noIdempotency: true });
    expect(code).toBe(0);
    expect(only(findings, 'idempotency')).toEqual([
      {
        check: 'idempotency',
        subject: '/api/todos',
        verdict: 'unknown',
        seen: 'the server does not say it honours Idempotency-Key: a replay after a lost answer may apply a write twice',
        fix: 'see "What your server should support" in the README (offline-outbox/server\'s idempotency())',
      },
    ]);
  });
});
