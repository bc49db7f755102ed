/** What `offlineOutbox()` accepts, and the values it uses when a field is left out. */
import { pluginError } from './plugin-error.js';

export interface OfflineOutboxOptions {
  /**
   * The route manifest, relative to Vite's `root` (or absolute). It is
   * checked as `offline-outbox check` checks it, inlined into the emitted
   * `sw.js`, and emitted beside it as `offline.manifest.json`.
   * @default "offline.manifest.json"
   */
  manifest?: string;
  /**
   * Mounts `<outbox-status>`: `true` adds `data-ui` to the injected script
   * tag (the element sits in the bottom-right corner); a CSS selector puts it
   * inside the element it selects (`data-ui="#sync-status"`). A page that
   * writes its own register.js tag keeps its own attributes.
   * @default false
   */
  ui?: boolean | string;
  /**
   * Serves the worker and register.js in `vite dev`, and injects the tag
   * there. The worker then caches what the dev server serves: a cache-first
   * or stale-while-revalidate route answers an edited module with its old
   * copy once, so turn this off (or tick "Update on reload" in the browser's
   * devtools) when that gets in the way.
   * @default true
   */
  dev?: boolean;
}

export interface ResolvedOptions {
  manifest: string;
  ui: string | undefined;
  dev: boolean;
}

export const DEFAULT_MANIFEST = 'offline.manifest.json';

/** Throws the `invalid-option` error for a value of the wrong type: a config file in JavaScript has no types to catch it. */
export function resolveOptions(options: OfflineOutboxOptions = {}): ResolvedOptions {
  const { manifest, ui, dev } = options;
  const wrong = (detail: string) => {
    const { code, message } = pluginError('invalid-option', detail);
    throw Object.assign(new Error(message), { code });
  };
  if (manifest !== undefined && (typeof manifest !== 'string' || manifest === ''))
    wrong(`manifest: expected the manifest's path, relative to Vite's root; got ${JSON.stringify(manifest)}`);
  if (ui !== undefined && typeof ui !== 'boolean' && typeof ui !== 'string') wrong(`ui: expected true, false or a CSS selector; got ${JSON.stringify(ui)}`);
  if (dev !== undefined && typeof dev !== 'boolean') wrong(`dev: expected true or false; got ${JSON.stringify(dev)}`);
  return {
    manifest: manifest ?? DEFAULT_MANIFEST,
    // data-ui="" is the bottom-right corner; a selector names the host element.
    ui: ui === true ? '' : typeof ui === 'string' ? ui : undefined,
    dev: dev ?? true,
  };
}
