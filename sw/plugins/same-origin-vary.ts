/**
 * Drops `Origin` from the `Vary` of a same-origin answer before it is stored.
 * A same-origin request carries no Origin header, or the page's own:
 * Chromium adds it to `crossorigin` scripts and stylesheets (every tag Vite
 * writes), not to the worker's own fetches. Varying on it can only make an
 * entry stored by one kind of request miss for the other: the first visit's
 * copies, fetched by the worker, for the page's module script and stylesheet.
 * (`vite preview`, and many hosts, send `Vary: Origin` on everything.)
 */
import type { WorkboxPlugin } from 'workbox-core/types.js';
import { getScope } from '../scope.js';

export class SameOriginVaryPlugin implements WorkboxPlugin {
  cacheWillUpdate: NonNullable<WorkboxPlugin['cacheWillUpdate']> = async ({ request, response }) => {
    const vary = response.headers.get('vary');
    if (!vary || new URL(request.url).origin !== getScope().location.origin) return response;
    const fields = vary.split(',').map((field) => field.trim());
    const kept = fields.filter((field) => field && field.toLowerCase() !== 'origin');
    if (kept.length === fields.length) return response;
    const headers = new Headers(response.headers);
    if (kept.length) headers.set('vary', kept.join(', '));
    else headers.delete('vary');
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
}
