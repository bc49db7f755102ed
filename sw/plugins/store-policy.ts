/**
 * The store policy as a Workbox plugin: a route stores only what it asks for
 * (see cache/store-policy.ts), never `no-store`, `private` only when the
 * route opts in, never an opaque response or `Vary: *`. Having a
 * `cacheWillUpdate`, it also replaces the NetworkFirst and
 * StaleWhileRevalidate default that stores opaque responses. A refusal the
 * server's headers caused is reported (cache/not-cached.ts): it is a
 * configuration to fix, and silent it would only show as a page that does
 * not open offline.
 */
import type { WorkboxPlugin } from 'workbox-core/types.js';
import { notStored, stored } from '../cache/not-cached.js';
import { refusingHeader, storesStatus } from '../cache/store-policy.js';
import type { CacheOptions } from '../manifest/types.js';

export class StorePolicyPlugin implements WorkboxPlugin {
  readonly #rules: Pick<CacheOptions, 'statuses' | 'private'>;
  readonly #route: string | undefined;

  /** `route` names the route in reports (its match pattern); without it nothing is reported. */
  constructor(rules: Pick<CacheOptions, 'statuses' | 'private'> = {}, route?: string) {
    this.#rules = rules;
    this.#route = route;
  }

  cacheWillUpdate: NonNullable<WorkboxPlugin['cacheWillUpdate']> = async ({ request, response }) => {
    if (!storesStatus(this.#rules, response.status)) return null;
    const header = refusingHeader(this.#rules, response);
    if (this.#route) await (header ? notStored(this.#route, request.url, header) : stored(this.#route)).catch(() => {});
    return header ? null : response;
  };
}
