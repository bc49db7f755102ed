// The page code of the benchmark, identical for every subject: the bench
// server inlines this file into the page it serves at "/", and the harness
// calls `window.bench.*` through page.evaluate. Plain browser JavaScript (no
// modules, no build step), so what runs is exactly what is written here.
(() => {
  'use strict';

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Resolves with the controlling worker's script URL once the page is controlled. */
  async function waitForController(timeoutMs) {
    const sw = navigator.serviceWorker;
    if (!sw) throw new Error('navigator.serviceWorker is missing (insecure origin?)');
    const deadline = performance.now() + timeoutMs;
    while (!sw.controller) {
      if (performance.now() > deadline) throw new Error(`the page was not controlled by a service worker within ${timeoutMs} ms`);
      await Promise.race([new Promise((resolve) => sw.addEventListener('controllerchange', resolve, { once: true })), sleep(100)]);
    }
    return sw.controller.scriptURL;
  }

  /**
   * Sends `total` POSTs to /api/r/<i mod resources> with the JSON body
   * {"resource": r, "seq": n} (n = floor(i / resources)), `inflight` at a
   * time, and resolves once every fetch has settled (answered and body read,
   * or rejected). A write to a resource starts only after the previous write
   * to the same resource has settled, as a user's second edit follows the
   * first; with 100 resources and 50 in flight this almost never waits, but
   * it makes "the order the page wrote them in" well defined per resource.
   */
  async function sendWrites({ total, inflight, resources, timeoutMs }) {
    const settled = new Array(total);
    const outcomes = new Array(total);
    let next = 0;

    async function write(i) {
      const resource = i % resources;
      const seq = Math.floor(i / resources);
      if (i >= resources) await settled[i - resources];
      try {
        const response = await fetch(`/api/r/${resource}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ resource, seq }),
        });
        await response.arrayBuffer();
        outcomes[i] = { status: response.status, queuedId: response.headers.get('x-outbox-queued') };
      } catch (error) {
        outcomes[i] = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
      }
    }
    async function lane() {
      while (next < total) {
        const i = next++;
        settled[i] = write(i);
        await settled[i];
      }
    }

    const visibility = document.visibilityState;
    const started = performance.now();
    let timer;
    const timedOut = new Promise((_, reject) => {
      timer = setTimeout(() => {
        const done = outcomes.filter(Boolean).length;
        reject(new Error(`sendWrites: ${total - done} of ${total} writes still unsettled after ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      await Promise.race([Promise.all(Array.from({ length: Math.min(inflight, total) }, lane)), timedOut]);
    } finally {
      clearTimeout(timer);
    }
    const elapsedMs = performance.now() - started;

    const statuses = {};
    const errors = {};
    const queuedIds = new Set();
    let accepted = 0;
    let rejected = 0;
    for (const outcome of outcomes) {
      if ('error' in outcome) {
        rejected++;
        errors[outcome.error] = (errors[outcome.error] ?? 0) + 1;
        continue;
      }
      statuses[outcome.status] = (statuses[outcome.status] ?? 0) + 1;
      if (outcome.status === 202 && outcome.queuedId) {
        accepted++;
        queuedIds.add(outcome.queuedId);
      }
    }
    return { total, elapsedMs, statuses, rejected, errors, accepted202WithId: accepted, distinctQueuedIds: queuedIds.size, visibility };
  }

  /**
   * Fetches `count` GETs one after another, cycling over `urls`, and times
   * each in the page: performance.now() before `fetch(url)` and after the
   * body has been read as text. Every answer is checked: status 200 and the
   * body `expected[url]`. Resolves with each time in ms, in order.
   */
  async function measureGets({ urls, expected, count }) {
    const times = new Array(count);
    const statuses = {};
    const errors = {};
    let wrongBodies = 0;
    for (let i = 0; i < count; i++) {
      const url = urls[i % urls.length];
      const started = performance.now();
      let response;
      let text;
      try {
        response = await fetch(url);
        text = await response.text();
      } catch (error) {
        const key = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        errors[key] = (errors[key] ?? 0) + 1;
        times[i] = performance.now() - started;
        continue;
      }
      times[i] = performance.now() - started;
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      if (text !== expected[url]) wrongBodies++;
    }
    return { times, statuses, errors, wrongBodies, crossOriginIsolated: self.crossOriginIsolated === true };
  }

  /**
   * Resolves with how many distinct URLs whose path starts with `prefix`
   * the page's origin has in Cache Storage (any cache), once there are at
   * least `atLeast` or `timeoutMs` has passed: the workers store what they
   * fetched after answering, so the harness waits for the stores to land.
   */
  async function waitForCached(prefix, atLeast, timeoutMs) {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = new Set();
      for (const name of await caches.keys()) {
        for (const request of await (await caches.open(name)).keys()) {
          if (new URL(request.url).pathname.startsWith(prefix)) found.add(request.url);
        }
      }
      if (found.size >= atLeast || performance.now() > deadline) return found.size;
      await sleep(50);
    }
  }

  /** Counts the records of an IndexedDB object store; null when the database does not exist. */
  async function countStore(dbName, storeName) {
    const names = (await indexedDB.databases()).map((d) => d.name);
    if (!names.includes(dbName)) return null;
    const db = await new Promise((resolve, reject) => {
      const open = indexedDB.open(dbName);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
      open.onblocked = () => reject(new Error(`opening ${dbName} is blocked`));
    });
    try {
      if (!db.objectStoreNames.contains(storeName)) return null;
      return await new Promise((resolve, reject) => {
        const request = db.transaction(storeName, 'readonly').objectStore(storeName).count();
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    } finally {
      db.close();
    }
  }

  /**
   * Calls window.offlineOutbox.syncNow() if the page has it, without waiting
   * for it to finish (the server side measures delivery). Reports whether it
   * existed; its outcome lands in window.bench.syncNowOutcome.
   */
  function syncNow() {
    const fn = window.offlineOutbox?.syncNow;
    if (typeof fn !== 'function') return 'absent';
    try {
      Promise.resolve(fn.call(window.offlineOutbox)).then(
        () => (window.bench.syncNowOutcome = 'resolved'),
        (error) => (window.bench.syncNowOutcome = `rejected: ${String(error)}`),
      );
    } catch (error) {
      window.bench.syncNowOutcome = `threw: ${String(error)}`;
    }
    return 'called';
  }

  window.bench = { waitForController, sendWrites, measureGets, waitForCached, countStore, syncNow, syncNowOutcome: undefined };
})();
