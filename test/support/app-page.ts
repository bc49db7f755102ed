/**
 * What end-to-end scenarios do in the page: fetch and report what the page
 * saw, wait for the worker to control the page, read the console. Each
 * function is sent to the browser as source, so it must not close over
 * anything.
 */
import type { BrowserPage } from './browsers/index.js';
import type { TestServer } from './test-server.js';

/** A plain page: records its console (WebDriver cannot read it in WebKit), then the drop-in script tag. */
export const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>offline-outbox test page</title>
<script>
  window.__console = [];
  for (const level of ['log', 'info', 'warn', 'error']) {
    const original = console[level].bind(console);
    console[level] = (...args) => { window.__console.push(level + ': ' + args.map(String).join(' ')); original(...args); };
  }
</script>
<script src="/register.js" defer></script>
</head><body><h1 id="title">Items page</h1></body></html>`;

export interface PageFetch {
  ok: boolean;
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  error?: string;
}

/** fetch() in the page; a network error comes back as `ok: false` with its message. */
export function pageFetch(page: BrowserPage, url: string, init: RequestInit = {}): Promise<PageFetch> {
  return page.evaluate(
    async (url: string, init: RequestInit) => {
      try {
        const r = await fetch(url, init);
        const headers: Record<string, string> = {};
        r.headers.forEach((v, k) => (headers[k] = v));
        return { ok: true, status: r.status, body: await r.text(), headers };
      } catch (e) {
        return { ok: false, error: String(e) };
      }
    },
    url,
    init,
  );
}

/** Resolves once a worker is active for the page's scope (rejects after `ms`). */
export function waitForActiveWorker(page: BrowserPage, ms = 30_000): Promise<string> {
  return page.evaluate(async (ms: number) => {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no active worker after ${ms} ms`)), ms));
    const registration = await Promise.race([navigator.serviceWorker.ready, timeout]);
    return registration.active!.scriptURL;
  }, ms);
}

/** The script URL of the worker controlling the page, or null. */
export const controllerUrl = (page: BrowserPage): Promise<string | null> => page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null);

export const pageConsole = (page: BrowserPage): Promise<string[]> => page.evaluate(() => (window as unknown as { __console: string[] }).__console);

/** Polls the page's console until a line contains `text`. */
export async function waitForConsole(page: BrowserPage, text: string, ms = 30_000): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    const line = (await pageConsole(page)).find((l) => l.includes(text));
    if (line) return line;
    if (Date.now() > until) throw new Error(`no console line containing ${JSON.stringify(text)} after ${ms} ms; the console had:\n${(await pageConsole(page)).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Serves PAGE_HTML at `path` and a manifest at /offline.manifest.json. */
export function serveApp(server: TestServer, manifest: unknown, path = '/'): void {
  server.on('GET', path, { headers: { 'content-type': 'text/html; charset=utf-8' }, body: PAGE_HTML });
  setManifest(server, manifest);
}

export function setManifest(server: TestServer, manifest: unknown): void {
  server.on('GET', '/offline.manifest.json', {
    headers: { 'content-type': 'application/json' },
    body: typeof manifest === 'string' ? manifest : JSON.stringify(manifest),
  });
}
