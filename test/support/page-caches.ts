/** What a real page's Cache Storage holds, for end-to-end tests of what the worker cached. */
import type { BrowserPage } from './browsers/index.js';
import { eventually } from './outbox-page.js';

/** The paths of everything in the page's Cache Storage, each once, sorted. */
export const cachedPaths = (page: BrowserPage): Promise<string[]> =>
  page.evaluate<string[]>(async () => {
    const paths = new Set<string>();
    for (const name of await caches.keys()) for (const request of await (await caches.open(name)).keys()) paths.add(new URL(request.url).pathname);
    return [...paths].sort();
  });

/** Waits until the page's caches hold every path of `expected`; says what they held when they do not. Resolves with what they hold. */
export async function waitUntilCached(page: BrowserPage, expected: string[], ms = 20_000): Promise<string[]> {
  let cached: string[] = [];
  await eventually(
    async () => {
      cached = await cachedPaths(page);
      return expected.every((path) => cached.includes(path));
    },
    `the cache to hold ${expected.join(', ')}`,
    ms,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; it holds ${cached.join(', ') || 'nothing'}`);
  });
  return cached;
}
