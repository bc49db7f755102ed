/**
 * End-to-end helpers for writes: a page with a classic form, writes sent by
 * fetch and XHR from the page, and the server side of a REST write API that
 * records what it received.
 */
import type { BrowserPage } from './browsers/index.js';
import { PAGE_HTML } from './app-page.js';
import type { RecordedRequest, Reply, TestServer } from './test-server.js';

/** PAGE_HTML plus a classic HTML form that posts to `action`. */
export const formPage = (action: string) =>
  PAGE_HTML.replace('</body>', `<form id="note-form" method="post" action="${action}"><input name="title" value="from a form"><input name="seq" value="0"></form></body>`);

export interface PageWrite {
  url: string;
  body: string;
  via: 'fetch' | 'xhr';
  method?: string;
}

/** Sends writes one after the other from the page; returns each status (0 = a network error). */
export function sendWrites(page: BrowserPage, writes: PageWrite[]): Promise<number[]> {
  return page.evaluate(async (writes: PageWrite[]) => {
    const statuses: number[] = [];
    for (const w of writes) {
      if (w.via === 'fetch') {
        try {
          const r = await fetch(w.url, { method: w.method ?? 'POST', headers: { 'content-type': 'application/json' }, body: w.body });
          statuses.push(r.status);
        } catch {
          statuses.push(0);
        }
      } else {
        statuses.push(
          await new Promise<number>((resolve) => {
            const x = new XMLHttpRequest();
            x.open(w.method ?? 'POST', w.url);
            x.setRequestHeader('content-type', 'application/json');
            x.onload = () => resolve(x.status);
            x.onerror = () => resolve(0);
            x.send(w.body);
          }),
        );
      }
    }
    return statuses;
  }, writes);
}

/** Submits the page's form (a navigation) and waits until the page it lands on has loaded. */
export async function submitForm(page: BrowserPage, seq: number): Promise<void> {
  await page.evaluate((seq: number) => {
    (window as unknown as { __beforeSubmit: boolean }).__beforeSubmit = true;
    const form = document.getElementById('note-form') as HTMLFormElement;
    (form.elements.namedItem('seq') as HTMLInputElement).value = String(seq);
    setTimeout(() => form.submit(), 0);
    return true;
  }, seq);
  const until = Date.now() + 20_000;
  for (;;) {
    try {
      const landed = await page.evaluate(() => !(window as unknown as { __beforeSubmit?: boolean }).__beforeSubmit && document.readyState === 'complete');
      if (landed) return;
    } catch {
      // The page is between documents.
    }
    if (Date.now() > until) throw new Error('the form post did not land on a page within 20 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Calls window.offlineOutbox (register.js) in the page. */
export function outboxCall<T>(page: BrowserPage, method: 'status' | 'entries' | 'syncNow' | 'retry' | 'discard' | 'resolve', ...args: unknown[]): Promise<T> {
  return page.evaluate(
    async (method: string, args: unknown[]) => {
      const outbox = (window as unknown as { offlineOutbox: Record<string, (...a: unknown[]) => Promise<unknown>> }).offlineOutbox;
      await outbox.registration;
      return outbox[method]!(...args);
    },
    method,
    args,
  );
}

/** Serves a write API on each path: 201 JSON for fetch/XHR, 303 back to "/" for a form; `answer` may override. */
export function serveWrites(
  server: TestServer,
  paths: string[],
  answer?: (request: RecordedRequest, attempt: number) => { status?: number; body?: string } | undefined | Promise<{ status?: number; body?: string } | undefined>,
): void {
  const attempts = new Map<string, number>();
  for (const path of paths) {
    server.on('POST', path, async (request): Promise<Reply> => {
      const key = request.headers['idempotency-key'] ?? '';
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      const custom = await answer?.(request, attempt);
      if (custom) return { status: custom.status ?? 200, headers: { 'content-type': 'application/json' }, body: custom.body ?? '{}' };
      if (request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) return { status: 303, headers: { location: '/' } };
      return { status: 201, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
    });
  }
}

/** Polls until `condition` holds; fails with `what` after `ms`. */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
