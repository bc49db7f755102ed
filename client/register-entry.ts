/**
 * `dist/register.js`: `<script src="/register.js" defer></script>`, with
 * optional `data-sw`, `data-manifest` and `data-scope`. Exposes
 * `window.offlineOutbox`.
 */
import { registerOutbox } from './register-outbox.js';

declare global {
  interface Window {
    offlineOutbox?: { registration: Promise<ServiceWorkerRegistration | undefined> };
  }
}

const script = document.currentScript as HTMLScriptElement | null;
const data = script?.dataset ?? {};
window.offlineOutbox = {
  registration: registerOutbox({
    sw: data.sw,
    manifest: data.manifest,
    scope: data.scope,
    // A relative data-sw, and the default sw.js, sit beside this script.
    base: script?.src || location.href,
  }),
};
