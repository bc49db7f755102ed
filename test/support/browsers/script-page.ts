/**
 * A BrowserPage over a driver whose page can evaluate a script expression
 * (Playwright's and Puppeteer's pages alike). The page runs `fn` itself and
 * reports `{ ok, json | message }`, so a page error reaches Node as exactly
 * the page's message (the drivers would prefix it, add a stack or protocol
 * wrapping) and values cross as plain JSON.
 */
import type { BrowserPage } from './types.js';

type Outcome = { ok: true; json: string | undefined } | { ok: false; message: string };

export interface ScriptablePage {
  goto(url: string, options: { waitUntil: 'load' }): Promise<unknown>;
  reload(options: { waitUntil: 'load' }): Promise<unknown>;
  url(): string;
  evaluate(expression: string): Promise<unknown>;
  close(): Promise<void>;
}

function wrap(fn: string | ((...args: never[]) => unknown), args: unknown[]): string {
  const source = typeof fn === 'string' ? fn : fn.toString();
  return `(async () => {
    try {
      return { ok: true, json: JSON.stringify(await (${source})(...${JSON.stringify(args)})) };
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
  })()`;
}

export function scriptPage(page: ScriptablePage): BrowserPage {
  return {
    async goto(url) {
      await page.goto(url, { waitUntil: 'load' });
    },
    async reload() {
      await page.reload({ waitUntil: 'load' });
    },
    async url() {
      return page.url();
    },
    async evaluate<T>(fn: string | ((...args: never[]) => unknown), ...args: unknown[]): Promise<T> {
      const outcome = (await page.evaluate(wrap(fn, args))) as Outcome;
      if (!outcome.ok) throw new Error(outcome.message);
      return (outcome.json === undefined ? undefined : JSON.parse(outcome.json)) as T;
    },
    close: () => page.close(),
  };
}
