/**
 * register.js's `data-ui`: loads `outbox-status.js`, which sits beside
 * register.js, and mounts `<outbox-status>` once the DOM is ready, in the
 * bottom-right corner or inside the element `selector` selects. The element
 * may be mounted before its definition arrives: defining it upgrades it in
 * place, and until then it shows nothing.
 */
import { OUTBOX_STATUS_TAG } from './outbox-status.js';

/** `base` is register.js's own URL. */
export function mountOutboxStatus(selector: string, base: string): void {
  const load = () => {
    const script = document.createElement('script');
    script.src = new URL('outbox-status.js', base).href;
    script.defer = true;
    // A page opened offline while no cache route holds outbox-status.js: the
    // element is mounted but undefined, so it is defined once back online.
    script.onerror = () => {
      script.remove();
      window.addEventListener('online', load, { once: true });
    };
    document.head.append(script);
  };
  load();

  const mount = () => {
    const status = document.createElement(OUTBOX_STATUS_TAG);
    let container: Element | null = null;
    try {
      container = selector ? document.querySelector(selector) : null;
    } catch {} // An invalid selector falls back like one that matches nothing.
    if (selector && !container) console.warn(`offline-outbox: no element matches data-ui=${JSON.stringify(selector)}; <outbox-status> is shown in the corner instead.`);
    if (!container) status.setAttribute('position', 'corner');
    (container ?? document.body).append(status);
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mount, { once: true });
  else mount();
}
