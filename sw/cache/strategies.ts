/**
 * The manifest's cache strategies, one name to one workbox-strategies class
 * (the names are common/manifest.ts's CACHE_STRATEGIES; the compiler checks
 * the two agree), and the plugins every manifest GET route gets.
 */
import type { WorkboxPlugin } from 'workbox-core/types.js';
import { ExpirationPlugin } from 'workbox-expiration';
import { CacheFirst, CacheOnly, NetworkFirst, NetworkOnly, StaleWhileRevalidate, type Strategy } from 'workbox-strategies';
import type { CacheOptions, CacheStrategyName } from '../manifest/types.js';
import { SameOriginVaryPlugin } from '../plugins/same-origin-vary.js';
import { StorePolicyPlugin } from '../plugins/store-policy.js';

interface StrategyConfig {
  cacheName: string;
  plugins: WorkboxPlugin[];
  networkTimeoutSeconds?: number;
}

const STRATEGIES: Record<CacheStrategyName, (config: StrategyConfig) => Strategy> = {
  'network-first': (config) => new NetworkFirst(config),
  'stale-while-revalidate': ({ networkTimeoutSeconds, ...config }) => new StaleWhileRevalidate(config),
  'cache-first': ({ networkTimeoutSeconds, ...config }) => new CacheFirst(config),
  'network-only': ({ plugins, networkTimeoutSeconds }) => new NetworkOnly({ plugins, networkTimeoutSeconds }),
  'cache-only': ({ networkTimeoutSeconds, ...config }) => new CacheOnly(config),
};

/** Whether a strategy keeps what it fetches (a route with a cache to refresh, to precache into). */
export const stores = (options: CacheOptions | undefined): options is CacheOptions => !!options && options.strategy !== 'network-only';

/**
 * A route's strategy: `shared` are the plugins of every route (read-your-writes,
 * the replay hint); the route adds its store policy and, when it limits
 * entries or age, workbox-expiration's ExpirationPlugin. Returns the plugins
 * too: refreshes outside the strategy (replays, notices) store through them.
 * `route` names the route when an answer is refused for its headers.
 */
export function createStrategy(options: CacheOptions, cacheName: string, shared: readonly WorkboxPlugin[], route?: string): { strategy: Strategy; plugins: WorkboxPlugin[] } {
  const { maxEntries, maxAgeSeconds } = options;
  const plugins = [...shared, new StorePolicyPlugin(options, route), new SameOriginVaryPlugin()];
  if (maxEntries || maxAgeSeconds) plugins.push(new ExpirationPlugin({ maxEntries, maxAgeSeconds }));
  const strategy = STRATEGIES[options.strategy]({ cacheName, plugins, networkTimeoutSeconds: options.networkTimeoutSeconds });
  return { strategy, plugins };
}
