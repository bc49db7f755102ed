/**
 * DevTools (CDP) helpers for the bench's service-worker cases: stop a page's
 * service workers (a cold start), and read the JS heap of the worker that
 * controls a page.
 *
 * Both go through a CDP session on the *page* (`context.newCDPSession(page)`),
 * which every Playwright context offers; a browser session
 * (`browser.newBrowserCDPSession()`) needs `context.browser()`, which
 * Playwright documents as null for a persistent context (1.65 returns one,
 * but nothing here relies on it). A page session is enough on Chromium:
 * it may use the `ServiceWorker` domain (what DevTools → Application →
 * Service workers uses), whose version reports name the pages each version
 * controls (`controlledClients`, the page's target id), and it may attach
 * to the worker's target
 * (`Target.attachToTarget` with `flatten: false`, then
 * `Target.sendMessageToTarget`: Playwright's CDPSession can only address its
 * own session, so the worker's protocol goes wrapped through the page's).
 * No extra launch flag, no debugging port, no WebSocket.
 *
 * Every session opened here is detached before the helper settles.
 *
 * Playwright itself stays attached to every service worker: its browser
 * session auto-attaches to them (`waitForDebuggerOnStart: true`) to report
 * them and to emulate offline in them, and that session outlives a stop
 * (`Inspector.targetCrashed`). A stopped worker that starts again is held
 * until Playwright, told `Inspector.targetReloadedAfterCrash`, answers
 * `Runtime.runIfWaitingForDebugger` from Node. So a cold start measured
 * under Playwright includes one round trip to the Node process, for every
 * subject alike, and Node must be idle meanwhile: with Node kept busy for
 * 250 ms after the page's GET began, a GET through a stopped worker took
 * about 265 ms and one through a running worker 5 ms (devtools-check.mjs
 * prints both). With Node idle, Playwright answers within the millisecond
 * (`DEBUG=pw:protocol` shows it).
 */
import { HarnessError, withTimeout } from './util.mjs';

/** How long each helper may take by default. */
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Stops every service worker of the page's origin, as Chromium does after
 * one has idled, and resolves once Chromium reports each of them
 * `stopped` (its thread has ended): the next event for the origin, a fetch
 * of a controlled page say, starts the worker afresh (top-level script
 * again, globals empty).
 *
 * `ServiceWorker.stopWorker` per version of the origin rather than
 * `stopAllWorkers`, which would stop the workers of every origin in the
 * profile. The command answers before the worker has stopped, so the wait
 * is on `ServiceWorker.workerVersionUpdated`. Nothing attaches to the
 * worker: a DevTools session on it would keep it from idling out and
 * pause its next start until that session let it run.
 *
 * Waiting for Chromium's idle timeout (30 s) instead does not work under
 * Playwright: a worker left idle for 75 s was still running, as Chromium
 * does not idle-stop a worker that DevTools (here Playwright) is attached to.
 *
 * @param {import('playwright-core').Page} page
 * @param {{ timeoutMs?: number }} [options] `timeoutMs` @default 10_000
 * @returns {Promise<string[]>} the script URLs of the workers it stopped (empty if none was running)
 */
export async function stopServiceWorkers(page, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
  const origin = new URL(page.url()).origin;
  return withPageSession(page, timeoutMs, `stopping the service workers of ${origin}`, async (cdp) => {
    const registrations = await page.evaluate(async () => (await navigator.serviceWorker?.getRegistrations())?.length ?? 0);
    if (registrations === 0) return [];
    const tracker = trackVersions(cdp);
    const ofOrigin = () => tracker.versions().filter((version) => new URL(version.scriptURL).origin === origin);
    await cdp.send('ServiceWorker.enable');
    // The first report after `enable` lists every version at once.
    await tracker.until(() => ofOrigin().length > 0);
    const running = ofOrigin().filter((version) => version.runningStatus !== 'stopped');
    await Promise.all(running.map(({ versionId }) => cdp.send('ServiceWorker.stopWorker', { versionId })));
    await tracker.until(() => ofOrigin().every((version) => version.runningStatus === 'stopped'));
    return running.map((version) => version.scriptURL);
  });
}

/**
 * The JS heap of the service worker that controls the page, after a full
 * garbage collection: `usedBytes` is what live objects take, `totalBytes`
 * what V8 has reserved for the heap. From `HeapProfiler.collectGarbage`
 * then `Runtime.getHeapUsage`, sent to the worker's own target. Array
 * buffers' contents live outside the JS heap: they are `backingStoreBytes`
 * (and Blink's own objects `embedderBytes`), where Chromium reports them.
 *
 * The worker must be running: a stopped worker has no heap, and starting
 * one to read it would measure a fresh start rather than the worker the
 * page used. Rejects with a HarnessError saying so; let the page fetch
 * through it first. The session on the worker is detached before this
 * settles.
 *
 * @param {import('playwright-core').Page} page
 * @param {{ timeoutMs?: number }} [options] `timeoutMs` @default 10_000
 * @returns {Promise<{ usedBytes: number, totalBytes: number, embedderBytes: number, backingStoreBytes: number }>}
 */
export async function workerHeapBytes(page, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
  return withWorker(
    page,
    async (worker) => {
      await worker.send('HeapProfiler.collectGarbage');
      const { usedSize, totalSize, embedderHeapUsedSize = 0, backingStorageSize = 0 } = await worker.send('Runtime.getHeapUsage');
      return { usedBytes: usedSize, totalBytes: totalSize, embedderBytes: embedderHeapUsedSize, backingStoreBytes: backingStorageSize };
    },
    { timeoutMs, what: `reading the heap of the service worker controlling ${page.url()}` },
  );
}

/**
 * Runs `work(worker)` with a DevTools session attached to the service worker
 * that controls `page` (`worker.send(method, params)` sends it a command),
 * all within `timeoutMs`, and detaches whatever happens. Rejects when no
 * worker controls the page, or when it is stopped (start it with a fetch).
 */
export async function withWorker(page, work, { timeoutMs = DEFAULT_TIMEOUT_MS, what = `attaching to the service worker controlling ${page.url()}` } = {}) {
  return withPageSession(page, timeoutMs, what, async (cdp) => {
    const controlled = await page.evaluate(() => Boolean(navigator.serviceWorker?.controller));
    if (!controlled) throw new HarnessError(`${what}: no service worker controls the page; wait for navigator.serviceWorker.controller first`);
    const { targetInfo } = await cdp.send('Target.getTargetInfo');
    const tracker = trackVersions(cdp);
    const controlling = () => tracker.versions().find((version) => version.controlledClients?.includes(targetInfo.targetId));
    await cdp.send('ServiceWorker.enable');
    // A worker that is starting gets a target id with it, and runs shortly after.
    const version = await tracker.until(() => {
      const found = controlling();
      const settled = found?.runningStatus === 'stopped' || (found?.runningStatus === 'running' && found.targetId);
      return settled ? found : null;
    });
    if (version.runningStatus === 'stopped') {
      throw new HarnessError(`${what}: ${version.scriptURL} is stopped; let the page fetch through it first`);
    }
    const worker = await attachToWorker(cdp, version.targetId);
    try {
      return await work(worker);
    } finally {
      await worker.detach();
    }
  });
}

/**
 * Runs `work` with a new CDP session on the page, all within `timeoutMs`,
 * and detaches the session whatever happens. Detaching also ends every
 * session attached through it, should `work` have been cut off by the
 * timeout.
 */
async function withPageSession(page, timeoutMs, what, work) {
  let cdp;
  const opening = page.context().newCDPSession(page);
  const session = opening.then((opened) => (cdp = opened));
  try {
    return await withTimeout(session.then(work), timeoutMs, what);
  } finally {
    if (cdp) await cdp.detach().catch(() => {});
    // Opened after the timeout, if ever: detach it then.
    else opening.then((late) => late.detach()).catch(() => {});
  }
}

/**
 * The latest report of each service worker version the session has seen,
 * and a way to wait until they satisfy a condition. Chromium reports only
 * what changed, so the reports are merged by version id.
 */
function trackVersions(cdp) {
  /** @type {Map<string, { versionId: string, scriptURL: string, runningStatus: string, status: string, controlledClients?: string[], targetId?: string }>} */
  const byId = new Map();
  const waiters = new Set();
  cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
    for (const version of versions) byId.set(version.versionId, version);
    for (const check of waiters) check();
  });
  return {
    versions: () => [...byId.values()],
    /** Resolves with the condition's first truthy value (checked now, then after each report). */
    until(condition) {
      return new Promise((resolve) => {
        const check = () => {
          const value = condition();
          if (!value) return;
          waiters.delete(check);
          resolve(value);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/**
 * Attaches to a worker's target through the page's session, without
 * flattening: commands and answers travel as strings in
 * `Target.sendMessageToTarget` / `Target.receivedMessageFromTarget`.
 * Commands pending when the worker goes away reject.
 */
async function attachToWorker(cdp, targetId) {
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: false });
  let lastId = 0;
  const pending = new Map();
  const onMessage = (event) => {
    if (event.sessionId !== sessionId) return;
    const { id, result, error } = JSON.parse(event.message);
    const command = pending.get(id);
    if (!command) return; // an event of the worker's session
    pending.delete(id);
    if (error) command.reject(new HarnessError(`${command.method} in the service worker failed: ${error.message}`));
    else command.resolve(result);
  };
  const onDetached = (event) => {
    if (event.sessionId !== sessionId) return;
    for (const command of pending.values()) command.reject(new HarnessError(`${command.method}: the service worker went away (stopped or replaced) before answering`));
    pending.clear();
  };
  cdp.on('Target.receivedMessageFromTarget', onMessage);
  cdp.on('Target.detachedFromTarget', onDetached);
  return {
    send(method, params = {}) {
      const id = ++lastId;
      return new Promise((resolve, reject) => {
        pending.set(id, { method, resolve, reject });
        cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch((error) => {
          pending.delete(id);
          reject(error);
        });
      });
    },
    async detach() {
      cdp.off('Target.receivedMessageFromTarget', onMessage);
      cdp.off('Target.detachedFromTarget', onDetached);
      // Fails only if the worker is already gone, which detaches the session too.
      await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => {});
    },
  };
}
