/**
 * `<outbox-status>` as register.js mounts it (`data-ui`), in a real page
 * against the real worker: idle, mid-replay, and with a parked conflict;
 * and, without `data-ui`, neither the element nor its script.
 * Each state is asserted through the element's shadow DOM (what must show:
 * texts, parts, button names, host attributes) in all three engines, and in
 * Chromium also saved as a PNG under .cache/screenshots/ for a person to
 * look at; no pixel is compared.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { EntrySummary } from '../../common/messages.js';
import { controllerUrl, pageFetch, PAGE_HTML, setManifest, waitForActiveWorker } from '../support/app-page.js';
import { selectedEngines, skipEngine, type BrowserPage } from '../support/browsers/index.js';
import { eventually, outboxCall, sendWrites, type PageWrite } from '../support/outbox-page.js';
import { createRestStore } from '../support/rest-store.js';
import { useScenario } from '../support/scenario.js';

const SCREENSHOTS = fileURLToPath(new URL('../../.cache/screenshots/', import.meta.url));
const TAG = '<script src="/register.js" defer></script>';
const pageWith = (ui: string, body = '') => PAGE_HTML.replace(TAG, `<script src="/register.js" defer ${ui}></script>`).replace('</body>', `${body}</body>`);

const manifest = {
  version: 1,
  routes: [
    { match: '/', cache: { strategy: 'network-first' } },
    { match: '/register.js', cache: { strategy: 'stale-while-revalidate' } },
    { match: '/api/notes/:id', methods: ['POST'], queue: {} },
    { match: '/api/todos/:id', methods: ['GET'], cache: { strategy: 'network-first' } },
    { match: '/api/todos', methods: ['POST'], queue: {}, resource: 'todos' },
    { match: '/api/todos/:id', methods: ['PUT', 'PATCH', 'DELETE'], queue: { conflict: 'manual' }, resource: 'todos' },
  ],
  resources: { todos: { collection: '/api/todos', item: '/api/todos/:id', ids: 'server' } },
};

interface Version {
  label: string;
  text: string;
}
interface StatusView {
  parent: string;
  corner: boolean;
  /** The idle pill. */
  compact: boolean;
  height: number;
  position: string;
  state: string | null;
  pending: string | null;
  conflicts: string | null;
  /** Part names of the shadow DOM's elements that are not hidden. */
  parts: string[];
  summary: { text: string; role: string | null; live: string | null };
  progress: { shown: boolean; value: number; max: number };
  lastSync: { text: string; datetime: string | null };
  rows: { part: string; text: string; local?: Version; server?: Version; sideBySide?: boolean; buttons: { tag: string; type: string; text: string; name: string | null }[] }[];
}

/** What `<outbox-status>` shows, read from its shadow DOM; null while it is not there. */
function view(page: BrowserPage): Promise<StatusView | null> {
  return page.evaluate(() => {
    const host = document.querySelector('outbox-status');
    const root = host?.shadowRoot;
    if (!host || !root) return null;
    const shown = (el: Element) => !el.closest('[hidden]') && getComputedStyle(el).display !== 'none';
    const one = (selector: string, scope: ParentNode = root) => scope.querySelector(selector);
    const version = (figure: Element | null) => figure && { label: one('figcaption', figure)?.textContent ?? '', text: one('pre', figure)?.textContent ?? '' };
    const summary = one('[part~="summary"]')!;
    const progress = one('[part~="progress"]') as HTMLProgressElement;
    const lastSync = one('[part~="last-sync"]')!;
    const rows = [...root.querySelectorAll('li')].filter(shown).map((li) => {
      const local = one('[part~="local"]', li);
      const server = one('[part~="server"]', li);
      const a = local?.getBoundingClientRect();
      const b = server?.getBoundingClientRect();
      return {
        part: li.getAttribute('part') ?? '',
        text: li.textContent ?? '',
        ...(local && server ? { local: version(local), server: version(server), sideBySide: a!.top === b!.top && a!.right <= b!.left } : {}),
        buttons: [...li.querySelectorAll('[part~="button"]')].map((b) => ({
          tag: b.tagName,
          type: b.getAttribute('type') ?? '',
          text: b.textContent ?? '',
          name: b.getAttribute('aria-label'),
        })),
      };
    });
    return {
      parent: host.parentElement?.id || host.parentElement?.tagName || '',
      corner: host.getAttribute('position') === 'corner',
      compact: host.hasAttribute('compact'),
      height: host.getBoundingClientRect().height,
      position: getComputedStyle(host).position,
      state: host.getAttribute('state'),
      pending: host.getAttribute('data-pending'),
      conflicts: host.getAttribute('data-conflicts'),
      parts: [...root.querySelectorAll('[part]')].filter(shown).flatMap((el) => [...el.part]),
      summary: { text: summary.textContent ?? '', role: summary.getAttribute('role'), live: summary.getAttribute('aria-live') },
      progress: { shown: shown(progress), value: progress.value, max: progress.max },
      lastSync: { text: lastSync.textContent ?? '', datetime: one('time', lastSync)?.getAttribute('datetime') ?? null },
      rows,
    };
  });
}

/** Waits until the element shows what `ok` accepts; returns that view. */
async function showing(page: BrowserPage, ok: (v: StatusView) => boolean, what: string): Promise<StatusView> {
  let last: StatusView | null = null;
  try {
    await eventually(async () => {
      last = await view(page);
      return last !== null && ok(last);
    }, what);
  } catch (error) {
    throw new Error(`${(error as Error).message}; it showed ${JSON.stringify(last, null, 2)}`);
  }
  return last!;
}

/** The PNG is there and is one: its signature, an IHDR chunk with a real size, more than a few bytes. */
function expectPng(path: string): void {
  const png = readFileSync(path);
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  expect(png.readUInt32BE(16)).toBeGreaterThan(50);
  expect(png.readUInt32BE(20)).toBeGreaterThan(10);
  expect(png.length).toBeGreaterThan(1000);
}

describe.each(selectedEngines())('<outbox-status> in $name', (engine) => {
  describe.skipIf(skipEngine(engine))(engine.name, () => {
    const rest = createRestStore();
    let release = () => {};
    const held = { answered: 0, reached: false, gate: new Promise<void>((resolve) => (release = resolve)) };
    const scenario = useScenario(engine, (server) => {
      server.on('GET', '/', { headers: { 'content-type': 'text/html; charset=utf-8' }, body: pageWith('data-ui') });
      // The last row's button sits in the bottom-right corner, where the element floats.
      const rows = Array.from({ length: 60 }, (_, i) => `<p style="text-align:right;margin:0;padding:4px">row ${i}</p>`).join('');
      const last = '<p style="text-align:right;margin:0"><button id="last" style="width:60vw;height:40px">Delete</button></p>';
      server.on('GET', '/long', { headers: { 'content-type': 'text/html; charset=utf-8' }, body: pageWith('data-ui', rows + last) });
      server.on('GET', '/plain', { headers: { 'content-type': 'text/html; charset=utf-8' }, body: PAGE_HTML });
      server.on('GET', '/boxed', { headers: { 'content-type': 'text/html; charset=utf-8' }, body: pageWith('data-ui="#sync-status"', '<aside id="sync-status"></aside>') });
      setManifest(server, manifest);
      // Answers the first two writes at once and holds the rest until released: a replay caught mid-way.
      server.on('POST', '/api/notes/a', async () => {
        if (++held.answered > 2) {
          held.reached = true;
          await held.gate;
        }
        return { status: 201, headers: { 'content-type': 'application/json' }, body: '{}' };
      });
      server.onPrefix('/api/', (request) => rest.handle(request));
    });

    async function ready(path = '/'): Promise<void> {
      const { server, page } = scenario;
      rest.reset();
      await page.goto(`${server.origin}${path}`);
      await waitForActiveWorker(page);
      await page.reload();
      expect(await controllerUrl(page)).not.toBeNull();
      // What an earlier test left queued (a failed one, say) must not show here.
      await page.evaluate(() => (window as unknown as { offlineOutbox: { clear(): Promise<boolean> } }).offlineOutbox.clear());
    }

    /** A PNG of the element in Chromium (the driver that can take one); the DOM assertions run in every engine. */
    async function screenshot(state: string): Promise<void> {
      if (engine.name !== 'chromium') return;
      const path = `${SCREENSHOTS}outbox-status-${state}.png`;
      mkdirSync(SCREENSHOTS, { recursive: true });
      rmSync(path, { force: true });
      await scenario.page.screenshot!('outbox-status', path);
      expectPng(path);
    }

    it('idle: mounted in the corner as a small pill, "All changes synced", the last sync in its tooltip', async () => {
      await ready();
      const v = await showing(scenario.page, (v) => v.state === 'idle', 'the idle state');
      expect(v).toMatchObject({
        parent: 'BODY',
        corner: true,
        compact: true,
        position: 'fixed',
        pending: '0',
        conflicts: '0',
        summary: { text: 'All changes synced', role: 'status', live: 'polite' },
        progress: { shown: false },
        lastSync: { text: 'Last synced never', datetime: null },
        rows: [],
      });
      expect(v.parts).toEqual(['summary']);
      // One line of 12px text: a pill, not a panel.
      expect(v.height).toBeLessThan(32);
      expect(await scenario.page.evaluate(() => document.querySelector('outbox-status')!.title)).toBe('Last synced never');
      // Its code came in its own script, from beside register.js.
      const scripts = await scenario.page.evaluate(() => [...document.scripts].map((s) => s.src).filter((src) => src.includes('outbox-status')));
      expect(scripts).toEqual([`${scenario.server.origin}/outbox-status.js`]);
      expect(scenario.server.received('/outbox-status.js', 'GET').length).toBeGreaterThan(0);
      await screenshot('idle');
    });

    it('without data-ui, register.js neither loads outbox-status.js nor mounts the element', async () => {
      const { server, page } = scenario;
      const fetched = server.received('/outbox-status.js').length;
      // ready() loads the page twice, the second time controlled, and has register.js's client clear the outbox.
      await ready('/plain');
      const seen = await page.evaluate(() => ({
        scripts: [...document.scripts].map((s) => s.src).filter((src) => src.includes('outbox-status')),
        elements: document.querySelectorAll('outbox-status').length,
        defined: customElements.get('outbox-status') !== undefined,
      }));
      expect(seen).toEqual({ scripts: [], elements: 0, defined: false });
      expect(server.received('/outbox-status.js')).toHaveLength(fetched);
    });

    it('data-ui="<selector>" puts it inside that element instead of the corner', async () => {
      await ready('/boxed');
      const v = await showing(scenario.page, (v) => v.state === 'idle', 'the idle state');
      expect(v).toMatchObject({ parent: 'sync-status', corner: false, position: 'static', summary: { text: 'All changes synced' } });
      expect(await scenario.page.evaluate(() => document.querySelectorAll('outbox-status').length)).toBe(1);
    });

    it("in the corner, never covers the end of the page: the last row's button can be scrolled clear of it", async () => {
      await ready('/long');
      await showing(scenario.page, (v) => v.state === 'idle', 'the idle state');
      const overlap = await scenario.page.evaluate<{ overlaps: boolean; buttonBottom: number; viewport: number }>(async () => {
        window.scrollTo(0, document.documentElement.scrollHeight);
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        const a = document.querySelector('outbox-status')!.getBoundingClientRect();
        const b = document.getElementById('last')!.getBoundingClientRect();
        return { overlaps: a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom, buttonBottom: b.bottom, viewport: innerHeight };
      });
      expect(overlap.overlaps).toBe(false);
      expect(overlap.buttonBottom).toBeLessThanOrEqual(overlap.viewport);
    });

    it('syncing: five writes made offline, replayed while the server holds the third, show "Syncing 2 of 5" and a progress bar', async () => {
      const { server, page } = scenario;
      await ready();
      await server.unplug();
      const writes: PageWrite[] = [0, 1, 2, 3, 4].map((seq) => ({ url: '/api/notes/a', via: 'fetch', body: JSON.stringify({ seq }) }));
      expect(await sendWrites(page, writes)).toEqual([202, 202, 202, 202, 202]);
      const pending = await showing(page, (v) => v.state === 'pending' && v.pending === '5', 'five writes waiting');
      expect(pending.summary.text).toBe('5 changes waiting to sync');

      await server.plug();
      // Resolves only once the pass is over, which the held answer prevents.
      void outboxCall(page, 'syncNow').catch(() => {});
      await eventually(() => held.reached, 'the third write to reach the server');
      const v = await showing(page, (v) => v.state === 'syncing' && v.progress.value === 2, 'the replay to show two writes done');
      expect(v).toMatchObject({ pending: '3', summary: { text: 'Syncing 2 of 5' }, progress: { shown: true, value: 2, max: 5 } });
      expect(v.parts).toEqual(['summary', 'progress', 'last-sync']);
      await screenshot('syncing');

      release();
      const done = await showing(page, (v) => v.state === 'idle', 'the replay to finish');
      expect(done.summary.text).toBe('All changes synced');
      expect(done.progress.shown).toBe(false);
      expect(done.lastSync.text).toMatch(/^Last synced \S/);
      expect(done.lastSync.text).not.toBe('Last synced never');
      expect(Date.now() - Date.parse(done.lastSync.datetime!)).toBeLessThan(60_000);
      expect(server.received('/api/notes/a').map((r) => r.body)).toEqual(writes.map((w) => w.body));
    });

    /** Queues a PATCH offline, has another client edit the item meanwhile, replays: the PATCH is parked. */
    async function parkConflict(mine: Record<string, unknown>, theirs: Record<string, unknown>) {
      const { server, page } = scenario;
      await ready();
      const item = rest.seed('todos', { title: 'original', done: false });
      const url = `/api/todos/${item.id}`;
      expect((await pageFetch(page, url)).status).toBe(200);
      await server.unplug();
      const patched = await pageFetch(page, url, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(mine) });
      expect(patched.status).toBe(202);
      rest.edit('todos', item.id, theirs);
      await server.plug();
      await outboxCall(page, 'syncNow');
      const shown = await showing(page, (v) => v.state === 'conflict' && v.rows.length === 1, 'the conflict to show');
      return { item, url, shown };
    }
    const click = (page: BrowserPage, label: string) =>
      page.evaluate((label: string) => {
        const button = document.querySelector('outbox-status')!.shadowRoot!.querySelector(`button[aria-label^="${label}:"]`) as HTMLButtonElement;
        button.focus();
        button.click();
        return button.getAttribute('aria-label');
      }, label);

    it('conflict: both versions side by side with Keep mine, Keep theirs and Retry; "Keep theirs" settles it and it is idle again', async () => {
      const { page } = scenario;
      const { item, url, shown: v } = await parkConflict({ title: 'mine <b>bold</b>' }, { title: 'theirs', done: true });
      expect(v).toMatchObject({ conflicts: '1', pending: '0', summary: { text: '1 conflict to resolve' } });
      expect(v.parts).toEqual(expect.arrayContaining(['summary', 'last-sync', 'conflicts', 'conflict', 'versions', 'local', 'server', 'button']));
      const [row] = v.rows;
      expect(row).toMatchObject({ part: 'conflict', sideBySide: true, local: { label: 'Your change' }, server: { label: 'On the server' } });
      expect(row!.text).toContain(`Conflict: PATCH ${url}`);
      // Pretty-printed JSON, as text: the markup in the title stays text.
      expect(JSON.parse(row!.local!.text)).toEqual({ title: 'mine <b>bold</b>' });
      expect(row!.local!.text).toContain('\n  "title"');
      expect(JSON.parse(row!.server!.text)).toMatchObject({ id: item.id, title: 'theirs', done: true });
      expect(await page.evaluate(() => document.querySelector('outbox-status')!.shadowRoot!.querySelector('b'))).toBeNull();
      expect(row!.buttons).toEqual(['Keep mine', 'Keep theirs', 'Retry'].map((text) => ({ tag: 'BUTTON', type: 'button', text, name: `${text}: PATCH ${url}` })));
      await screenshot('conflict');

      expect(await click(page, 'Keep theirs')).toBe(`Keep theirs: PATCH ${url}`);
      const settled = await showing(page, (v) => v.state === 'idle', 'the conflict to be settled');
      expect(settled).toMatchObject({ conflicts: '0', summary: { text: 'All changes synced' }, rows: [] });
      // The focused button went with its row: focus moves to the outcome, not to the page's top.
      expect(await page.evaluate(() => document.querySelector('outbox-status')!.shadowRoot!.activeElement?.getAttribute('part'))).toBe('summary');
      expect(await outboxCall<EntrySummary[]>(page, 'entries')).toEqual([]);
      // Keep theirs sends nothing: the server keeps its version and saw only the refused PATCH.
      expect(rest.items('todos')).toEqual([expect.objectContaining({ title: 'theirs', done: true })]);
      expect(rest.log.filter((r) => r.method === 'PATCH')).toHaveLength(1);
    });

    it('"Keep mine" sends the local change over the server version, against that version', async () => {
      const { page } = scenario;
      const { item, url } = await parkConflict({ title: 'mine' }, { done: true, note: 'theirs' });
      await click(page, 'Keep mine');
      const settled = await showing(page, (v) => v.state === 'idle', 'the conflict to be settled');
      expect(settled).toMatchObject({ conflicts: '0', summary: { text: 'All changes synced' }, rows: [] });
      expect(rest.items('todos')).toEqual([expect.objectContaining({ id: item.id, title: 'mine', done: true, note: 'theirs' })]);
      const patches = rest.log.filter((r) => r.method === 'PATCH' && r.url === url);
      expect(patches.map((p) => p.ifMatch)).toEqual([`"${item.id}-v1"`, `"${item.id}-v2"`]);
      expect(JSON.parse(patches[1]!.body)).toMatchObject({ title: 'mine', done: true, note: 'theirs' });
      expect(patches[1]!.key).not.toBe(patches[0]!.key);
    });
  });
});
