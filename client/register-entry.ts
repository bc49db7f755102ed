/**
 * `dist/register.js`: `<script src="/register.js" defer></script>`, with
 * optional `data-sw`, `data-manifest` and `data-scope`. Exposes
 * `window.offlineOutbox`: the registration promise and the outbox client.
 */
import { connectOutbox, type OutboxClient } from './connect-outbox.js';
import { registerOutbox } from './register-outbox.js';

declare global {
  interface Window {
    offlineOutbox?: { registration: Promise<ServiceWorkerRegistration | undefined> } & OutboxClient;
  }
}

const script = document.currentScript as HTMLScriptElement | null;
const data = script?.dataset ?? {};
const registration = registerOutbox({
  sw: data.sw,
  manifest: data.manifest,
  scope: data.scope,
  // A relative data-sw, and the default sw.js, sit beside this script.
  base: script?.src || location.href,
});
const client = connectOutbox();
window.offlineOutbox = { registration, ...client };

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
