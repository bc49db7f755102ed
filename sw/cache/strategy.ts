/** A route's cache strategy, on Workbox's strategies and expiration. */
import type { WorkboxPlugin } from 'workbox-core/types.js';
import { ExpirationPlugin } from 'workbox-expiration';
import { CacheFirst, NetworkFirst, NetworkOnly, StaleWhileRevalidate, type Strategy } from 'workbox-strategies';
import type { CacheOptions } from '../manifest/types.js';
import { storePolicy } from './store-policy.js';

/** `extra` plugins run on every strategy (the outbox listens for network successes). */
export function createStrategy(options: CacheOptions, cacheName: string, extra: WorkboxPlugin[] = []): Strategy {
  const plugins = [storePolicy(options), ...extra];
  if (options.maxEntries || options.maxAgeSeconds) {
    plugins.push(new ExpirationPlugin({ maxEntries: options.maxEntries, maxAgeSeconds: options.maxAgeSeconds, purgeOnQuotaError: true }));
  }
  const { networkTimeoutSeconds } = options;
  switch (options.strategy) {
    case 'network-first':
      return new NetworkFirst({ cacheName, plugins, networkTimeoutSeconds });
    case 'stale-while-revalidate':
      return new StaleWhileRevalidate({ cacheName, plugins });
    case 'cache-first':
      return new CacheFirst({ cacheName, plugins });
    case 'network-only':
      return new NetworkOnly({ plugins, networkTimeoutSeconds });
  }
}
