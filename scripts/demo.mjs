#!/usr/bin/env node
/**
 * `npm run demo`: the todo example (examples/todo) driven headless in
 * Chromium through a narrated scenario. The page has no offline code; the
 * worker and the manifest do all of it. Each step prints what happened and
 * the outbox's status; a step that does not happen ends the demo with exit
 * code 1. A screenshot of the page mid-sync is saved and its path printed.
 *
 *   npm run demo                  (builds first)
 *   DEMO_SCREENSHOTS=dir npm run demo
 */
import { spawn } from 'node:child_process';
import { constants, readFileSync } from 'node:fs';
import { access, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const ARGS = JSON.parse(readFileSync(join(ROOT, 'test/support/browsers/chromium-args.json'), 'utf8'));
const SHOTS = resolve(process.env.DEMO_SCREENSHOTS ?? join(ROOT, '.cache/demo'));
/** The server answers each API write this much later, so a replay can be watched (and photographed) mid-way. */
const LATENCY_MS = 1500;

let step = 0;
const say = (text) => console.log(`\n${++step}. ${text}`);
const detail = (text) => console.log(`   ${text}`);
class StepFailed extends Error {}

/** Polls `check` until it returns something truthy; fails the step with `what` after `ms`. */
async function until(what, check, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > end) throw new StepFailed(`${what} did not happen within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startServer(dataDir) {
  const child = spawn(process.execPath, [join(ROOT, 'examples/todo/server.mjs')], {
    env: { ...process.env, PORT: '0', TODO_DATA: join(dataDir, 'todos.json'), TODO_QUIET: '1', TODO_LATENCY_MS: String(LATENCY_MS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = new Promise((resolveUrl, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /todo example: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (match) resolveUrl(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`the todo server exited (${code}) before listening`)));
  });
  return { child, url };
}

/** The page's view: the titles listed, with a mark for items the overlay says are pending. */
const listed = (page) =>
  page.$$eval('[data-id]', (rows) => rows.map((row) => `${row.querySelector('.title')?.textContent?.trim()}${row.querySelector('.toggle')?.checked ? ' ✓' : ''}`));
const status = (page) => page.evaluate(() => window.offlineOutbox.status());
const summary = async (page) => {
  const s = await status(page);
  return `outbox: ${s.pending} pending, ${s.inFlight} in flight, ${s.conflicts} conflicts, ${s.dead} dead; ${s.online ? 'online' : 'offline'}`;
};
/** Renames a todo through the page's own editor. */
async function rename(page, id, title) {
  await page.click(`[data-id="${id}"] .rename`);
  await page.fill(`[data-id="${id}"] .edit`, title);
  await page.press(`[data-id="${id}"] .edit`, 'Enter');
}
const elementState = (page) => page.$eval('outbox-status', (el) => el.getAttribute('state'));

async function main() {
  try {
    await access(CHROMIUM, constants.X_OK);
  } catch {
    console.error(`demo: Chromium is missing at ${CHROMIUM}; install it: apt-get install -y chromium`);
    return 1;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'outbox-demo-data-'));
  const profileDir = await mkdtemp(join(tmpdir(), 'outbox-demo-chromium-'));
  const server = startServer(dataDir);
  let context;
  try {
    const origin = await server.url;
    context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 900, height: 700 } });
    const page = context.pages()[0] ?? (await context.newPage());

    say(`Load the todo app online: ${origin}`);
    await page.goto(origin);
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.reload();
    await until('the worker controlling the page', () => page.evaluate(() => !!navigator.serviceWorker.controller));
    const first = await until('the list', async () => ((await listed(page)).length >= 3 ? listed(page) : undefined));
    detail(`listed: ${first.join(' | ')}`);
    const rows = await page.$$('[data-id]');
    const firstId = await rows[0].getAttribute('data-id');
    const secondId = await rows[1].getAttribute('data-id');
    // Renaming opens the todo first (the app loads the latest before editing), which the worker caches with its ETag.
    await rename(page, secondId, 'Renamed online');
    await until('the rename online', async () => (await listed(page)).some((t) => t.startsWith('Renamed online')));
    detail(`renamed the second todo online: ${(await listed(page)).join(' | ')}`);
    detail(await summary(page));

    say('Go offline (the browser and its service worker lose the network)');
    await context.setOffline(true);
    detail(await summary(page));

    say('Make three changes offline: add a todo, tick (or untick) the first, rename the second');
    await page.fill('#new-todo [name=title]', 'Buy oranges');
    await page.press('#new-todo [name=title]', 'Enter');
    await until('the new todo in the list', async () => (await listed(page)).some((t) => t.startsWith('Buy oranges')));
    const wasDone = (await listed(page))[0].endsWith('✓');
    await page.click(`[data-id="${firstId}"] .toggle`);
    await until('the first todo toggled', async () => (await listed(page))[0].endsWith('✓') !== wasDone);
    await rename(page, secondId, 'Renamed offline');
    await until('the second todo renamed', async () => (await listed(page)).some((t) => t.startsWith('Renamed offline')));
    await until('three writes in the outbox', async () => (await status(page)).pending === 3);
    detail(`listed: ${(await listed(page)).join(' | ')}`);
    detail(await summary(page));

    say('Meanwhile, on another device, someone renames the same second todo on the server');
    const other = await fetch(new URL(`/api/todos/${secondId}`, origin), {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: '{"title":"Renamed elsewhere"}',
    });
    if (!other.ok) throw new StepFailed(`the other device's edit failed: HTTP ${other.status}`);
    detail(`server answered ${other.status}`);

    say('Reload while still offline: the app opens from the cache and still shows the local changes');
    await page.reload();
    const afterReload = await until('the list after the reload', async () => {
      const titles = await listed(page);
      return titles.some((t) => t.startsWith('Buy oranges')) && titles.some((t) => t.startsWith('Renamed offline')) ? titles : undefined;
    });
    detail(`listed: ${afterReload.join(' | ')}`);
    detail(await summary(page));

    say('Go back online and watch the replay');
    await context.setOffline(false);
    await until('the replay to start', async () => (await elementState(page)) === 'syncing', 30_000);
    await mkdir(SHOTS, { recursive: true });
    const shot = join(SHOTS, 'outbox-status-mid-sync.png');
    await page.screenshot({ path: shot });
    detail(`screenshot mid-sync: ${shot}`);
    // What a person reads: the rendered text, not the element's own <style>.
    const progress = await page.$eval('outbox-status', (el) =>
      [...(el.shadowRoot?.children ?? [])]
        .filter((c) => c.localName !== 'style')
        // biome-ignore lint/performance/useDomNodeTextContent: what the user sees, hidden parts left out.
        .map((c) => c.innerText ?? c.textContent)
        .join(' '),
    );
    detail(`the status element says: ${progress?.replace(/\s+/g, ' ').trim()}`);
    await until(
      'the replay to end with one conflict',
      async () => {
        const s = await status(page);
        return s.pending + s.inFlight === 0 && s.conflicts === 1;
      },
      30_000,
    );
    detail(await summary(page));

    say('Settle the conflict in <outbox-status>: keep mine');
    const conflictText = await until('the conflict to show both versions', () =>
      page.$eval('outbox-status', (el) => {
        const text = el.shadowRoot?.textContent ?? '';
        return text.includes('Renamed offline') && text.includes('Renamed elsewhere') ? text : undefined;
      }),
    );
    detail(`both versions shown: ${/Renamed offline/.test(conflictText) && /Renamed elsewhere/.test(conflictText) ? 'yes' : 'no'}`);
    await page.evaluate(() => {
      const root = document.querySelector('outbox-status').shadowRoot;
      const button = [...root.querySelectorAll('button')].find((b) => /keep mine/i.test(b.textContent ?? ''));
      button.click();
    });
    await until(
      'the conflict settled',
      async () => {
        const s = await status(page);
        return s.conflicts === 0 && s.pending + s.inFlight === 0;
      },
      30_000,
    );
    const serverTodo = await (await fetch(new URL(`/api/todos/${secondId}`, origin))).json();
    if (!String(serverTodo.title).startsWith('Renamed offline')) throw new StepFailed(`the server has "${serverTodo.title}", not the kept change`);
    detail(`the server now has: "${serverTodo.title}"`);
    detail(await summary(page));

    say('No reload: the page re-read its list when the worker refreshed it, so no row says "not saved yet"');
    await until('every row saved', async () => (await page.$$eval('#todos .note', (notes) => notes.length)) === 0, 30_000);
    detail(`rows marked "not saved yet": 0 of ${(await listed(page)).length}`);

    say('Another tab changes a todo: this tab is told, and its cache is fresh without a reload');
    const heard = page.evaluate(
      () =>
        new Promise((resolveHeard) => {
          // Items are announced apart from their lists: wait for the list's refresh,
          // and only one that comes after the other tab's click (a refresh left
          // over from the steps before may still be announced).
          window.demoClicked = false;
          const off = window.offlineOutbox.on('cache-updated', (e) => {
            if (!window.demoClicked || !e.urls.some((u) => new URL(u).pathname === '/api/todos')) return;
            off();
            resolveHeard(e.urls);
          });
        }),
    );
    const tab = await context.newPage();
    await tab.goto(origin);
    await until('the other tab list', async () => (await listed(tab)).length > 0);
    await page.evaluate(() => (window.demoClicked = true));
    await tab.click(`[data-id="${firstId}"] .toggle`);
    const urls = await Promise.race([heard, new Promise((_, reject) => setTimeout(() => reject(new StepFailed('no cache-updated event for the list within 20 s')), 20_000))]);
    detail(`cache-updated: ${urls.map((u) => new URL(u).pathname + new URL(u).search).join(', ')}`);
    // Read from the worker's cache itself: what this tab would get offline now
    // (a few more announcements may follow the first: bounded).
    const cachedDone = () =>
      page.evaluate(async (id) => {
        const list = await caches.match('/api/todos');
        return list ? (await list.json()).find((t) => t.id === id)?.done : undefined;
      }, firstId);
    let fresh = await cachedDone();
    for (let i = 0; i < 20 && fresh !== wasDone; i++) {
      await new Promise((r) => setTimeout(r, 250));
      fresh = await cachedDone();
    }
    detail(`this tab's cached list has the first todo ${fresh === wasDone ? 'toggled back, as the other tab left it' : 'as before'}`);
    if (fresh !== wasDone) throw new StepFailed("this tab's cache did not get the other tab's change");
    await tab.close();

    console.log(`\nThe demo ran every step. Screenshot: ${shot}`);
    return 0;
  } catch (error) {
    console.error(`\ndemo: step ${step} failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await context?.close().catch(() => {});
    server.child.kill();
    await rm(profileDir, { recursive: true, force: true, maxRetries: 3 });
    await rm(dataDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
