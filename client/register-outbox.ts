/**
 * Registering the worker from a page. The manifest is part of the worker's
 * identity: its hash goes into the registration URL, so deploying a changed
 * manifest installs a new worker (validated at install; an invalid one
 * fails and the previous worker keeps serving), which a browser would not do
 * for a change in a file other than the worker script itself.
 */
import { CHANNEL_NAME, isOutboxEvent, type NotCached } from '../common/messages.js';
import { whyNoWorker } from './no-worker.js';

export interface RegisterOptions {
  /** The worker script. @default "sw.js", resolved against `base` */
  sw?: string;
  /** The manifest. @default "offline.manifest.json" beside the worker */
  manifest?: string;
  /** The registration scope. @default the worker's folder */
  scope?: string;
  /** What relative `sw` resolves against. @default the page's URL */
  base?: string;
  /**
   * Hears the manifest once it has been fetched (the page reads its
   * `changes`); when the page loaded offline, once it comes back online.
   */
  onManifest?: (manifest: unknown) => void;
}

const PREFIX = 'offline-outbox:';

async function digest(text: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Registers the worker and resolves with its registration, or with undefined
 * where service workers are unavailable. Never rejects: a page must keep
 * working online whatever happens here, so problems go to the console.
 */
export async function registerOutbox(options: RegisterOptions = {}): Promise<ServiceWorkerRegistration | undefined> {
  try {
    if (!('serviceWorker' in navigator)) {
      console.warn(`${PREFIX} offline support is off: ${whyNoWorker()}. The app works online as usual.`);
      return undefined;
    }
    const swUrl = new URL(options.sw ?? 'sw.js', options.base ?? location.href);
    const manifestUrl = new URL(options.manifest ?? 'offline.manifest.json', options.manifest ? location.href : swUrl);
    listenForProblems();

    let version: string | undefined;
    const load = async () => {
      const response = await fetch(manifestUrl, { cache: 'no-cache', credentials: 'same-origin' });
      const text = await response.text();
      try {
        if (response.ok) options.onManifest?.(JSON.parse(text));
      } catch {}
      return digest(`${response.status}\n${text}`);
    };
    try {
      version = await load();
    } catch {
      if (options.onManifest) addEventListener('online', () => void load().catch(() => {}), { once: true });
      // Offline: whatever worker is installed keeps serving.
      const existing = await navigator.serviceWorker.getRegistration(options.scope ?? swUrl.href);
      if (existing) return checkScope(existing);
    }
    if (options.manifest) swUrl.searchParams.set('manifest', manifestUrl.origin === location.origin ? manifestUrl.pathname + manifestUrl.search : manifestUrl.href);
    if (version) swUrl.searchParams.set('v', version);
    return checkScope(await navigator.serviceWorker.register(swUrl.href, options.scope ? { scope: options.scope } : undefined));
  } catch (error) {
    console.error(`${PREFIX} could not register the service worker; the app works online as usual.`, error);
    return undefined;
  }
}

let listening = false;
/** Install failures and routes that will not be cached, each printed once in this page's console. */
function listenForProblems(): void {
  if (listening || typeof BroadcastChannel === 'undefined') return;
  listening = true;
  new BroadcastChannel(CHANNEL_NAME).addEventListener('message', ({ data }) => {
    if (!isOutboxEvent(data)) return;
    if (data.type === 'not-cached') warnNotCached(data);
    if (data.type === 'install-failed')
      console.error(`${PREFIX} the new service worker was not installed; the previous one, if any, keeps serving.\nManifest ${data.manifestUrl}:\n  ${data.errors.join('\n  ')}`);
  });
}

const warned = new Set<string>();
/** Once per route and page: the worker reports it once, `status().notCached` on every load. */
export function warnNotCached({ route, url, header, fix }: NotCached): void {
  if (warned.has(route)) return;
  warned.add(route);
  console.warn(`${PREFIX} ${url} will not load offline: the server sent "${header}" (route "${route}"). Fix: ${fix}.`);
}

/** A registration whose scope leaves this page out installs a worker that never controls it: say so now, not when a request times out. */
function checkScope(registration: ServiceWorkerRegistration): ServiceWorkerRegistration {
  if (!location.href.startsWith(registration.scope))
    console.error(
      `${PREFIX} this page is outside the worker's scope (${registration.scope}): it works online only. Fix: serve sw.js from the site's root, or send "Service-Worker-Allowed: /" with it and set data-scope="/".`,
    );
  return registration;
}
