/**
 * Open from the first visit. A page's first load happens before any worker
 * controls it, so nothing it fetched went through a route: at install the
 * worker caches the manifest's exact-path routes and `precache` list, and
 * when the page becomes controlled, register.js sends the URLs it loaded
 * (Workbox's CACHE_URLS message, answered by the Router's cache listener).
 * A URL that cannot be fetched never fails the install: it is logged, kept,
 * and tried again when the worker next wakes (the next visit).
 */
import { get, set } from 'idb-keyval';
import { metaStore } from '../store/db.js';

/** Fetches and caches one URL during `event` (through its route); resolves with the answer. */
export type Fill = (url: string, event: ExtendableEvent) => Promise<Response | undefined>;

const missingKey = (id: string) => `first-visit-missing:${id}`;

/** Caches each of `urls` through its route's strategy, during `event`; returns those that failed. */
async function cacheThrough(fill: Fill, urls: readonly string[], event: ExtendableEvent): Promise<string[]> {
  const failed: string[] = [];
  await Promise.all(
    urls.map(async (url) => {
      try {
        const response = await fill(url, event);
        if (!response?.ok) failed.push(url);
      } catch {
        failed.push(url);
      }
    }),
  );
  return failed;
}

/** At install: caches `urls`; those that failed are logged and remembered under `id` (the worker's manifest). */
export async function cacheFirstVisit(fill: Fill, urls: readonly string[], event: ExtendableEvent, id: string): Promise<void> {
  const failed = await cacheThrough(fill, urls, event);
  if (failed.length)
    console.warn(`offline-outbox: could not cache ${failed.join(', ')} at install; they will be fetched again on the next visit, and those pages will not open offline until then`);
  await set(missingKey(id), failed, metaStore).catch(() => {});
}

/** When the worker wakes: tries again what the install could not cache. */
export async function retryFirstVisit(fill: Fill, event: ExtendableEvent, id: string): Promise<void> {
  const missing = await get<string[]>(missingKey(id), metaStore).catch(() => undefined);
  if (!missing?.length) return;
  await set(missingKey(id), await cacheThrough(fill, missing, event), metaStore).catch(() => {});
}
