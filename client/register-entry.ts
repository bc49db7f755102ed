/**
 * `dist/register.js`: `<script src="/register.js" defer></script>`, with
 * optional data attributes:
 * - `data-sw`: the worker's URL (default `sw.js` beside this script);
 * - `data-manifest`: the manifest's URL (default `offline.manifest.json` beside the worker);
 * - `data-scope`: the registration scope (default the worker's folder);
 * - `data-ui`: shows `<outbox-status>` once the DOM is ready, in the
 *   bottom-right corner, or inside the element its value selects
 *   (`data-ui="#sync-status"`); its code, `outbox-status.js`, is loaded from
 *   beside this script, and only then.
 * Exposes `window.offlineOutbox`: the registration promise and the outbox
 * client. When the manifest names a change feed, this tab connects to it and
 * forwards its notices to the worker. On a first visit, it tells the worker
 * that takes control what the page loaded before, so that it opens offline.
 */
import type { ChangesSpec } from '../common/manifest.js';
import { forwardChanges } from './changes-feed.js';
import { connectOutbox, type OutboxClient } from './connect-outbox.js';
import { cacheOnFirstControl } from './first-visit-cache.js';
import { mountOutboxStatus } from './mount-outbox-status.js';
import { registerOutbox, warnNotCached } from './register-outbox.js';

declare global {
  interface Window {
    offlineOutbox?: { registration: Promise<ServiceWorkerRegistration | undefined> } & OutboxClient;
  }
}

const script = document.currentScript as HTMLScriptElement | null;
const data = script?.dataset ?? {};
// A relative data-sw, the default sw.js and outbox-status.js sit beside this script.
const base = script?.src || location.href;
// Before registering: the worker may take control as soon as it is active.
cacheOnFirstControl();
const registration = registerOutbox({
  sw: data.sw,
  manifest: data.manifest,
  scope: data.scope,
  base,
  onManifest: (manifest) => {
    const changes = (manifest as { changes?: ChangesSpec } | null)?.changes;
    if (!stopFeed && (changes?.stream || changes?.websocket)) stopFeed = forwardChanges(changes, registration);
  },
});
let stopFeed: (() => void) | undefined;
const client = connectOutbox();
window.offlineOutbox = { registration, ...client };
// Routes found not cached on an earlier visit: this page hears them too.
registration
  .then((r) => r?.active && client.status())
  .then((status) => status?.notCached?.forEach(warnNotCached))
  .catch(() => {});

// An idle worker is stopped and hears no `online` event, and Background Sync,
// which would wake it, is Chromium-only: so the page asks for a replay.
let replaying = false;
let logged = false;
function replay(): void {
  // `online` and `visibilitychange` often fire together; one replay covers both.
  if (replaying) return;
  replaying = true;
  registration
    .then((r) => r && client.syncNow())
    .catch((error: unknown) => {
      // A background nicety must never disturb the page; one line is enough to debug it.
      if (!logged) console.debug('offline-outbox: a replay the page asked for failed; the writes stay queued.', error);
      logged = true;
    })
    .finally(() => (replaying = false));
}
window.addEventListener('online', replay);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') replay();
});

if (data.ui !== undefined) mountOutboxStatus(data.ui, base);
