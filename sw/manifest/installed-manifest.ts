/**
 * Where a worker's manifest comes from. Given as an object, it is checked
 * at once. Given as a URL, it is fetched and validated at install (an
 * invalid one fails the install, so the previous worker keeps serving) and
 * persisted, so a restarted worker reads it back without the network.
 */
import { getScope } from '../scope.js';
import { broadcast } from '../shared/broadcast.js';
import { isOutboxError } from '../errors.js';
import { checkManifest, fetchManifest } from './load-manifest.js';
import { readManifest, writeManifest } from './manifest-store.js';
import type { Manifest } from './types.js';

const openPages = (): Promise<number> =>
  getScope()
    .clients.matchAll({ type: 'window', includeUncontrolled: true })
    .then(
      (pages) => pages.length,
      () => 0,
    );

const NO_MANIFEST = 'offline-outbox: no stored manifest; requests pass through until the worker is reinstalled';

export interface InstalledManifest {
  /** Settles once a restarted worker has read its stored manifest (at once for an object). */
  readonly ready: Promise<void>;
  settled(): boolean;
  /** At install: fetches, validates and stores the manifest (a URL's); rejects, saying why, when it cannot. */
  install(): Promise<void>;
  /** A request arrived and no manifest is known (never installed, or storage lost): said once. */
  warnIfMissing(): void;
}

/** `use` is called with each manifest as it becomes known; `id` keys its stored copy. */
export function installedManifest(source: Manifest | string | undefined, id: string, use: (manifest: Manifest) => void): InstalledManifest {
  let known = false;
  const take = (m: Manifest) => {
    known = true;
    use(m);
  };
  if (typeof source !== 'string') {
    take(checkManifest(source, 'the manifest passed to installOutbox()'));
    return { ready: Promise.resolve(), settled: () => true, install: async () => {}, warnIfMissing() {} };
  }
  let settled = false;
  let warned = false;
  const ready = readManifest(id).then(
    (stored) => {
      if (stored && !known) take(stored);
    },
    (error: unknown) => console.error(NO_MANIFEST, error),
  );
  void ready.then(() => (settled = true));
  return {
    ready,
    settled: () => settled,
    async install() {
      try {
        const fresh = await fetchManifest(source);
        await writeManifest(id, fresh);
        take(fresh);
      } catch (error) {
        broadcast('install-failed', { manifestUrl: source, errors: isOutboxError(error) ? [...error.details] : [String(error)] });
        // register.js prints the failure in every open page of the origin; the
        // worker's own line would show in the same console (DevTools merges
        // the two), so it speaks only when no page is there to hear it.
        if (!(await openPages()))
          console.error(`offline-outbox: install failed; the previous worker, if any, keeps serving.\n${String(error instanceof Error ? error.message : error)}`);
        throw error;
      }
    },
    warnIfMissing() {
      if (known || warned) return;
      warned = true;
      console.warn(NO_MANIFEST, source);
    },
  };
}
