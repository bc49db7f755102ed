/**
 * The store policy as a Workbox plugin: a route stores only what it asks for
 * (see cache/store-policy.ts), never `no-store`, `private` only when the
 * route opts in, never an opaque response or `Vary: *`. Having a
 * `cacheWillUpdate`, it also replaces the NetworkFirst and
 * StaleWhileRevalidate default that stores opaque responses.
 */
import type { WorkboxPlugin } from 'workbox-core/types.js';
import { mayStore } from '../cache/store-policy.js';
import type { CacheOptions } from '../manifest/types.js';

export class StorePolicyPlugin implements WorkboxPlugin {
  readonly #rules: Pick<CacheOptions, 'statuses' | 'private'>;

  constructor(rules: Pick<CacheOptions, 'statuses' | 'private'> = {}) {
    this.#rules = rules;
  }

  cacheWillUpdate: NonNullable<WorkboxPlugin['cacheWillUpdate']> = async ({ response }) => (mayStore(this.#rules, response) ? response : null);
}
