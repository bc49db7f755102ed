/**
 * Routes whose answers the worker will not store, and why: a page or an
 * asset the server sends with `Cache-Control: no-store` never opens offline,
 * and nothing else would say so. Each route is reported once to the pages
 * (`not-cached`; register.js prints it with the fix) and listed in
 * `status().notCached` until one of its answers is stored again. The list
 * survives the worker's restarts, so a page that opens later still hears it.
 */
import { get, set } from 'idb-keyval';
import type { NotCached } from '../../common/messages.js';
import { broadcast } from '../shared/broadcast.js';
import { metaStore } from '../store/db.js';

const KEY = 'not-cached';

const FIXES: Record<string, string> = {
  'Cache-Control: no-store': 'send "Cache-Control: no-cache" (stored, and revalidated on every online visit) or a max-age for it instead',
  'Cache-Control: private': 'add "private": true to the route\'s cache if its answers may be kept on this device, or send them without "private"',
  'Vary: *': 'name the request headers the answer varies on (Vary: Accept) instead of "*"',
};

let routes: Map<string, NotCached> | undefined;
let loading: Promise<Map<string, NotCached>> | undefined;

const load = () =>
  (loading ??= get<NotCached[]>(KEY, metaStore).then(
    (list) => (routes ??= new Map((list ?? []).map((n) => [n.route, n]))),
    () => (routes ??= new Map()),
  ));

const save = (map: Map<string, NotCached>) => set(KEY, [...map.values()], metaStore).catch(() => {});

/** `route` refused `url`'s answer because of `header`: reported once per route (and per header). */
export async function notStored(route: string, url: string, header: string): Promise<void> {
  const map = await load();
  const known = map.get(route);
  if (known?.header === header) return;
  const found: NotCached = { route, url, header, fix: FIXES[header] ?? '' };
  map.set(route, found);
  broadcast('not-cached', found);
  await save(map);
}

/** One of `route`'s answers was stored: whatever kept it out before is fixed. */
export async function stored(route: string): Promise<void> {
  // Nothing to do, and no IndexedDB read, on the hot path of a healthy route.
  if (routes ? !routes.has(route) : !(await load()).has(route)) return;
  routes!.delete(route);
  await save(routes!);
}

export async function listNotCached(): Promise<NotCached[]> {
  return [...(await load()).values()];
}

/** Log-out empties it with everything else (the list names the app's URLs). */
export async function forgetNotCached(): Promise<void> {
  (await load()).clear();
  await save(routes!);
}
