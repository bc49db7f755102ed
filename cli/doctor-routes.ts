/**
 * The page and every cache route with an exact path, asked as a browser asks
 * them (GET), and judged by the worker's own rule (sw/cache/store-policy.ts
 * `mayStore`) under the route that matches them (sw/routing/route-table.ts).
 * A response the worker will not store fails silently in the browser: the
 * app works online and not offline (issue 12), so each cause is a row here.
 */
import { mayStore } from '../sw/cache/store-policy.js';
import { type CacheOptions, UNCACHED_STRATEGIES } from '../sw/manifest/types.js';
import { type CompiledRoute, findRoute, type RouteTable } from '../sw/routing/route-table.js';
import { type Check, type Finding, finding } from './doctor-finding.js';
import { type Answer, type Prober, shownHeader, shownUrl } from './doctor-probe.js';

const uncached = (route: CompiledRoute): boolean => !route.spec.cache || (UNCACHED_STRATEGIES as readonly string[]).includes(route.spec.cache.strategy);
const describeRoute = (route: CompiledRoute): string => `routes[${route.index}] (${route.spec.cache?.strategy ?? 'no cache'})`;

/** What an unstored answer costs, in the user's terms. */
function consequence(answer: Answer, subject: string, isPage: boolean, route: CompiledRoute | undefined): string {
  const type = answer.headers.get('content-type') ?? '';
  if (isPage) return 'the page will not open offline';
  if (route?.spec.resource || /\bjson\b/i.test(type)) return `reads of ${subject} will not work offline`;
  if (/text\/html/i.test(type)) return `${subject} will not open offline`;
  return `${subject} will not load offline`;
}

const directives = (headers: Headers): string[] =>
  (headers.get('cache-control') ?? '')
    .toLowerCase()
    .split(',')
    .map((d) => d.trim().split('=')[0]!);

/**
 * The rows for one answer under the route that serves it: one per reason the
 * worker will not store it, or one `ok`. The page is judged harder than a
 * route: a page that does not answer 2xx cannot open offline at all.
 */
export function storageFindings(check: Check, answer: Answer, origin: string, route: CompiledRoute | undefined, isPage = false): Finding[] {
  const subject = shownUrl(answer.url, origin);
  const { status, headers } = answer;
  const rules: Pick<CacheOptions, 'statuses' | 'private'> = route?.spec.cache ?? {};
  const where = route ? describeRoute(route) : 'no route';
  const redirect = status >= 300 && status < 400;
  if (redirect || status < 200 || status >= 300) {
    const location = headers.get('location');
    const to = location ? shownUrl(new URL(location, answer.url), origin) : undefined;
    const seen = redirect ? `answers ${status} → ${to ?? 'nowhere (no Location)'}: the worker stores only 2xx` : `answers ${status}: the worker stores only 2xx`;
    const fix = redirect
      ? isPage
        ? `run doctor on the URL the redirect ends at${to ? ` (${to})` : ''}, and list that path in the manifest`
        : `list the final URL${to ? ` (${to})` : ''} in the manifest instead of ${subject}`
      : isPage
        ? 'make the page answer 2xx to a plain GET'
        : `serve ${subject}, or remove ${route ? `routes[${route.index}]` : 'its route'} from the manifest`;
    return [finding(check, subject, isPage ? 'blocker' : 'warn', seen, fix)];
  }

  const lost = consequence(answer, subject, isPage, route);
  const cacheControl = shownHeader(headers, 'Cache-Control');
  const found: Finding[] = [];
  const d = directives(headers);
  if (d.includes('no-store'))
    found.push(
      finding(
        check,
        subject,
        'blocker',
        `${cacheControl}: will never be cached; ${lost}`,
        `send "Cache-Control: no-cache" instead of no-store for ${subject} (the browser still revalidates it every time)`,
      ),
    );
  if (d.includes('private') && !rules.private)
    found.push(
      finding(
        check,
        subject,
        'blocker',
        `${cacheControl}, and ${where} does not allow private answers: will never be cached; ${lost}`,
        `send "Cache-Control: no-cache" without private for ${subject}, or add "private": true to ${route ? `routes[${route.index}].cache` : "its route's cache"} if this device may keep it`,
      ),
    );
  if ((headers.get('vary') ?? '').split(',').some((v) => v.trim() === '*'))
    found.push(
      finding(
        check,
        subject,
        'blocker',
        `Vary: *: the Cache API refuses to store it; ${lost}`,
        `drop "Vary: *" for ${subject}; name the request headers the answer depends on instead (e.g. "Vary: Accept-Encoding")`,
      ),
    );
  if (rules.statuses && !rules.statuses.includes(status))
    found.push(
      finding(
        check,
        subject,
        'warn',
        `answers ${status}, not among ${where}'s statuses (${rules.statuses.join(', ')}): never stored`,
        `add ${status} to routes[${route!.index}].cache.statuses`,
      ),
    );
  // The worker's own rule has the last word: a row for anything it refuses that the reasons above missed.
  if (!found.length && !mayStore(rules, new Response(null, { status, headers })))
    found.push(finding(check, subject, 'blocker', `the worker will not store this answer (${status}, ${cacheControl}); ${lost}`, `make ${subject} answer 2xx without no-store`));
  if (found.length || !route) return found;
  return [finding(check, subject, 'ok', `${status}, ${cacheControl}: cached by routes[${route.index}]`)];
}

/** The page: whether a route caches it, and whether the worker can store its answer. */
export function pageFindings(page: Answer, table: RouteTable): Finding[] {
  const url = new URL(page.url);
  const path = url.pathname;
  const match = findRoute(table, 'GET', url);
  if (!match) {
    return [
      finding(
        'page',
        path,
        'blocker',
        `no GET route matches ${path}: the page is not in the manifest; it will not open offline`,
        `add { "match": "${path}", "cache": { "strategy": "network-first" } } to the manifest's routes`,
      ),
      // What the route to add would meet.
      ...storageFindings('page', page, url.origin, undefined, true),
    ];
  }
  if (uncached(match.route))
    return [
      finding(
        'page',
        path,
        'blocker',
        `${describeRoute(match.route)} serves it, and never from the cache: the page will not open offline`,
        `make routes[${match.route.index}] network-first (or list a network-first route for ${path} before it)`,
      ),
    ];
  return storageFindings('page', page, url.origin, match.route, true);
}

/** The GET cache routes with an exact path (no `:param`, no `*`), as URLs, the page's own left out. */
export function exactRouteUrls(table: RouteTable, page: URL): URL[] {
  const urls = new Map<string, URL>();
  for (const route of table.routes) {
    if (!(route.spec.methods ?? ['GET']).includes('GET') || uncached(route) || route.pattern.names.length) continue;
    const url = new URL(route.spec.match, route.origin);
    if (url.origin + url.pathname !== page.origin + page.pathname) urls.set(url.href, url);
  }
  return [...urls.values()];
}

export async function routeFindings(prober: Prober, table: RouteTable, page: URL): Promise<Finding[]> {
  const rows = await Promise.all(
    exactRouteUrls(table, page).map(async (url) => {
      const probed = await prober.request(url, { headers: { accept: '*/*' } });
      if (!probed.ok) return [finding('route', shownUrl(url, page.origin), 'warn', `${probed.error}: nothing to cache`, 'check that the app serves it, or remove its route')];
      return storageFindings('route', probed.answer, page.origin, findRoute(table, 'GET', url)?.route);
    }),
  );
  return rows.flat();
}
