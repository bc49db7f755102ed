/**
 * The outbox a worker runs: one per worker instance, created by whichever
 * piece asks first (the drop-in's `installOutbox`, or an app's own
 * `OutboxStrategy` and `ReadYourWritesPlugin`), during the script's first
 * evaluation, as browsers require of event listeners. It holds what those
 * pieces share (the declared resources, the change feed, where resources
 * are cached) and answers the worker's events that are not a route's: the
 * pages' messages, Background Sync, and the first event that wakes the
 * instance (writes left from before a restart or a crash).
 */
import { isOutboxRequest, type OutboxReply } from '../common/messages.js';
import type { ChangesSpec, ResourceSpec } from './manifest/types.js';
import { createOutbox, SYNC_TAG, type OutboxManifest, type OutboxOptions } from './outbox/outbox.js';
import { compileResource, resourceUrl, type Resource, type ResourceUrl } from './resources/resources.js';
import type { CacheLocation } from './resources/revalidate.js';
import { getScope } from './scope.js';
import { inScope } from './shared/broadcast.js';

/** What the manifest's routes add (installOutbox): where their GETs are cached, and how to delete those caches. */
export interface RouteCaches {
  cacheOf(url: string): CacheLocation | undefined;
  clear(): Promise<void>;
}

function createRuntime(options: OutboxOptions) {
  const scope = getScope();
  let fromManifest: Resource[] = [];
  const inline = new Map<string, Resource>();
  let routeCaches: RouteCaches | undefined;
  /** Caches an app's own routes were seen to keep a resource's URLs in: `"<resource> collection|item"` → name. */
  const learned = new Map<string, string>();
  const learnedKey = (target: ResourceUrl) => `${target.resource.name} ${target.id === undefined ? 'collection' : 'item'}`;

  // What the outbox and the feed read of the manifest: the fields change when a manifest is read (a restarted worker learns it late).
  const state: OutboxManifest = {
    resources: [],
    cacheOf(url) {
      const at = routeCaches?.cacheOf(url);
      if (at) return at;
      const target = resourceUrl(state.resources, new URL(url));
      const name = target && learned.get(learnedKey(target));
      return name ? { name, plugins: [] } : undefined;
    },
    async clearCaches() {
      await routeCaches?.clear();
      for (const name of new Set(learned.values())) await scope.caches.delete(name);
      learned.clear();
    },
  };
  const refresh = () => {
    state.resources = [...fromManifest, ...[...inline.values()].filter((r) => !fromManifest.some((m) => m.name === r.name))];
  };
  const outbox = createOutbox(options, state);

  const runtime = {
    outbox,
    /** Settles once what this instance knows at start is read (a stored manifest): pages' requests wait for it. */
    ready: Promise.resolve() as Promise<unknown>,
    /** Resources an app's own strategy or plugin declares in code. */
    declare(resources: Record<string, ResourceSpec>) {
      for (const [name, spec] of Object.entries(resources)) inline.set(name, compileResource(name, spec, scope.location.origin));
      refresh();
    },
    /** The manifest's resources, feed and route caches (installOutbox). */
    useManifest(resources: Resource[], changes: ChangesSpec | undefined, caches: RouteCaches) {
      fromManifest = resources;
      state.changes = changes;
      routeCaches = caches;
      refresh();
    },
    resourceOf: (url: URL, only?: string): ResourceUrl | undefined => (state.resources.length ? resourceUrl(state.resources, url, only) : undefined),
    learnCache(url: string, cacheName: string) {
      const target = runtime.resourceOf(new URL(url));
      if (target) learned.set(learnedKey(target), cacheName);
    },
    /** Work to do when an instance wakes, beside looking for leftover writes (installOutbox: first-visit URLs that failed). */
    onWake: [] as ((event: ExtendableEvent) => Promise<void>)[],
  };

  // The first event that wakes this instance also looks for writes left in the outbox.
  let woken = false;
  const wake = (event: ExtendableEvent) => {
    if (woken) return;
    woken = true;
    event.waitUntil(runtime.ready.then(() => Promise.all([outbox.wake(), ...runtime.onWake.map((work) => work(event))])));
  };
  scope.addEventListener('fetch', wake);

  scope.addEventListener('sync', (event) => {
    if (event.tag !== SYNC_TAG) return;
    woken = true;
    event.waitUntil(outbox.onSync(event));
  });

  scope.addEventListener('message', (event) => {
    const { data } = event;
    const port = event.ports[0];
    if (!isOutboxRequest(data) || !port) return;
    // Only pages inside this registration's scope may list, settle or clear its writes, or hand it notices.
    if (!inScope(event.source as Client | null)) {
      port.postMessage({
        ok: false,
        error: { code: 'out-of-scope', message: `offline-outbox: only pages under ${scope.registration.scope} may ask this worker` },
      } satisfies OutboxReply);
      return;
    }
    wake(event);
    event.waitUntil(
      // A restarted worker may still be reading its manifest (resources, the feed).
      runtime.ready
        .then(() => outbox.answer(data))
        .then(
          (value): OutboxReply => ({ ok: true, value: value as never }),
          (error: { code?: unknown; message?: unknown }): OutboxReply => ({
            ok: false,
            error: { code: typeof error?.code === 'string' ? error.code : 'worker-error', message: String(error?.message ?? error) },
          }),
        )
        .then((reply) => port.postMessage(reply))
        // Notices are answered at once and applied after: the worker stays up for that.
        .then(outbox.idle),
    );
  });
  return runtime;
}

export type OutboxRuntime = ReturnType<typeof createRuntime>;

let current: OutboxRuntime | undefined;

/** This instance's outbox, created on first use (`options` count only then). */
export const outboxRuntime = (options: OutboxOptions = {}): OutboxRuntime => (current ??= createRuntime(options));
