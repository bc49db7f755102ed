/**
 * How fetch events reach the Router. No route, no respondWith: a request no
 * route matches goes to the network as if the worker were not there.
 *
 * Cold start: the browser may restart the worker for a request while its
 * stored manifest is still being read (`ready`). respondWith must be called
 * during the event, so such a request is held until the routes are known.
 */
import type { Router } from 'workbox-routing';
import { getScope } from '../scope.js';

/** A request held through a cold start: routed once the routes are known, else sent on as it is. */
const held = (router: Router, ready: Promise<unknown>, event: FetchEvent) => ready.then(() => router.handleRequest({ request: event.request, event }) ?? fetch(event.request));

/** The Router is ours: every fetch event goes through it (`onRouted` first, once routes may be known). */
export function routeFetches(router: Router, ready: Promise<unknown>, settled: () => boolean, onRouted: () => void): void {
  getScope().addEventListener('fetch', (event) => {
    if (settled()) {
      onRouted();
      const response = router.handleRequest({ request: event.request, event });
      if (response) event.respondWith(response);
      return;
    }
    event.respondWith(held(router, ready, event));
  });
}

/**
 * The Router is the app's, and its own listener serves our routes once they
 * are on it; until then only the cold-start hold is ours, for a request the
 * app's routes did not answer.
 */
export function holdUntilRouted(router: Router, ready: Promise<unknown>, settled: () => boolean): void {
  if (settled()) return;
  getScope().addEventListener('fetch', (event) => {
    if (settled()) return;
    try {
      event.respondWith(held(router, ready, event));
    } catch {
      // The app's Router answered it already.
    }
  });
}
