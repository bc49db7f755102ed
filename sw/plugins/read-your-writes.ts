/**
 * Read-your-writes as a Workbox plugin, for any GET strategy: a GET of a
 * declared resource's collection or item is answered as the strategy's
 * answer plus the resource's writes still in the outbox (DESIGN.md,
 * "Read-your-writes overlay").
 *
 * - `cacheKeyWillBeUsed` / `requestWillFetch`: an item the page still knows
 *   by the local id of a create the server has since named is read, and
 *   cached, under the server's id.
 * - `handlerDidError`: offline with nothing cached, a resource with local
 *   writes still answers (an item created offline is readable); the
 *   overlay then starts from nothing.
 * - `handlerWillRespond`: the overlay itself.
 * - `cacheDidUpdate` / `cachedResponseWillBeUsed`: which cache a resource's
 *   URLs live in, so that replays and change notices refresh that cache
 *   (for routes an app registered itself; the manifest's routes say so);
 *   and a refreshed answer the cache is still writing is served in place
 *   of the copy it replaces (revalidate.ts).
 */
import type { WorkboxPlugin } from 'workbox-core/types.js';
import type { ResourceSpec } from '../manifest/types.js';
import { outboxRuntime } from '../outbox-runtime.js';
import { groupOf } from '../outbox/intercept.js';
import { localWrites } from '../outbox/local-writes.js';
import { serverIdFor } from '../outbox/resource-write.js';
import type { LocalWrite } from '../overlay/apply.js';
import { overlaid } from '../overlay/read.js';
import { itemUrl, type ResourceUrl } from '../resources/resources.js';
import { beingStored } from '../resources/revalidate.js';
import { getScope } from '../scope.js';

export interface ReadYourWritesOptions {
  /** Resources to declare (the manifest's, when `installOutbox` is used, are declared already). */
  resources?: Record<string, ResourceSpec>;
}

/** What one request's callbacks share (Workbox's per-plugin `state`). */
interface ReadState {
  target?: ResourceUrl | null;
  /** The server's id for a local one in the URL, looked up once. */
  serverUrl?: string | null;
  writes?: LocalWrite[];
  failed?: boolean;
}

/** The answer handlerDidError gives in place of the failed one: the overlay starts from nothing. */
const NO_BASE = 'x-outbox-no-base';

export class ReadYourWritesPlugin implements WorkboxPlugin {
  readonly #runtime = outboxRuntime();

  constructor(options: ReadYourWritesOptions = {}) {
    if (options.resources) this.#runtime.declare(options.resources);
  }

  #target(request: Request, state: ReadState): ResourceUrl | undefined {
    if (state.target === undefined) state.target = (request.method === 'GET' && this.#runtime.resourceOf(new URL(request.url))) || null;
    return state.target ?? undefined;
  }

  async #serverUrl(request: Request, state: ReadState): Promise<string | undefined> {
    if (state.serverUrl === undefined) {
      const target = this.#target(request, state);
      const id = target?.id !== undefined && target.resource.spec.ids === 'server' ? await serverIdFor(target.id) : undefined;
      state.serverUrl = id ? itemUrl(target!.resource, id) + new URL(request.url).search : null;
      if (id) state.target = { ...target!, id };
    }
    return state.serverUrl ?? undefined;
  }

  async #writes(request: Request, state: ReadState): Promise<LocalWrite[]> {
    const target = this.#target(request, state);
    if (!target) return [];
    await this.#serverUrl(request, state);
    const { resource, id } = state.target!;
    // An item's writes are its group's: read those bodies only, not every item's.
    if (id === undefined) return (state.writes = await localWrites(resource.name));
    const writes = await localWrites(resource.name, groupOf(itemUrl(resource, id), getScope().location.href));
    return (state.writes = writes.filter((w) => w.id === id));
  }

  cacheKeyWillBeUsed: NonNullable<WorkboxPlugin['cacheKeyWillBeUsed']> = async ({ request, state = {} }) => (await this.#serverUrl(request, state)) ?? request;

  requestWillFetch: NonNullable<WorkboxPlugin['requestWillFetch']> = async ({ request, state = {} }) => {
    const url = await this.#serverUrl(request, state);
    if (!url) return request;
    const { headers, credentials, cache, redirect, signal } = request;
    return new Request(url, { headers, credentials, cache, redirect, signal });
  };

  handlerDidError: NonNullable<WorkboxPlugin['handlerDidError']> = async ({ request, state = {} }) => {
    if (!(await this.#writes(request, state)).length) return undefined;
    state.failed = true;
    return new Response(null, { status: 504, headers: { [NO_BASE]: '1' } });
  };

  handlerWillRespond: NonNullable<WorkboxPlugin['handlerWillRespond']> = async ({ request, response, state = {} }) => {
    const target = this.#target(request, state);
    if (!target) return response;
    const base = state.failed && response.headers.has(NO_BASE) ? undefined : response;
    const writes = state.writes ?? (await this.#writes(request, state));
    // The writes were delivered between the failure and now: the page gets the failure it would have had.
    if (!writes.length) return base ?? Response.error();
    return overlaid(state.target!, writes, base);
  };

  cacheDidUpdate: NonNullable<WorkboxPlugin['cacheDidUpdate']> = async ({ cacheName, request }) => {
    this.#runtime.learnCache(request.url, cacheName);
  };

  cachedResponseWillBeUsed: NonNullable<WorkboxPlugin['cachedResponseWillBeUsed']> = async ({ cacheName, request, cachedResponse }) => {
    // A refreshed answer the cache is still writing is already the current one.
    const response = beingStored(cacheName, request.url) ?? cachedResponse;
    if (response) this.#runtime.learnCache(request.url, cacheName);
    return response ?? null;
  };
}
