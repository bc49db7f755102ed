/**
 * The manifest `offline-outbox init` writes: the app's shell (its page, its
 * assets, register.js) so it opens offline, and one example resource under
 * `/api/items` to rename. JSON has no comments, so the example paths are
 * the obvious placeholders and `init` prints what to edit.
 */
import type { Manifest } from '../sw/manifest/types.js';

export const STARTER_MANIFEST: Manifest = {
  version: 1,
  routes: [
    { match: '/', cache: { strategy: 'network-first', networkTimeoutSeconds: 3 } },
    // Cache-first suits file names that carry a content hash (what bundlers write under /assets/).
    { match: '/assets/*', cache: { strategy: 'cache-first', maxEntries: 200 } },
    { match: '/register.js', cache: { strategy: 'stale-while-revalidate' } },
    { match: '/api/items', methods: ['GET'], cache: { strategy: 'network-first', networkTimeoutSeconds: 3, maxEntries: 100 } },
    { match: '/api/items/:id', methods: ['GET'], cache: { strategy: 'stale-while-revalidate', maxEntries: 500 } },
    { match: '/api/items', methods: ['POST'], queue: { priority: 'high' }, resource: 'items' },
    { match: '/api/items/:id', methods: ['PUT', 'PATCH', 'DELETE'], queue: { conflict: 'manual' }, resource: 'items' },
  ],
  resources: {
    // "server": creates are sent as the app made them; the server's id replaces the local one.
    items: { collection: '/api/items', item: '/api/items/:id', idField: 'id', ids: 'server' },
  },
};

/** The starter manifest as `init` writes it: `"$schema"` first, where editors look for it. */
export const starterManifest = (schema: string): Manifest => ({ $schema: schema, ...STARTER_MANIFEST });
