// The page code of the benchmark, identical for every subject: the bench
// server inlines this file into the page it serves at "/", and the harness
// calls `window.bench.*` through page.evaluate. Plain browser JavaScript (no
// modules, no build step), so what runs is exactly what is written here.
(() => {
  'use strict';

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  /** Wall-clock ms, as precise as performance.now(): the harness maps it to the server's clock. */
  const epochNow = () => performance.timeOrigin + performance.now();

  /**
   * When a change notice reached the page (the `notice` case): every
   * EventSource the page opens (register.js's feed, or the page's own)
   * stamps each message here, before any handler of the page sees it, and
   * does nothing else. Installed before register.js runs.
   */
  const sseMessages = [];
  if (typeof EventSource === 'function') {
    const NativeEventSource = EventSource;
    window.EventSource = class extends NativeEventSource {
      constructor(url, init) {
        super(url, init);
        this.addEventListener('message', (event) => sseMessages.push({ at: epochNow(), data: String(event.data) }));
      }
    };
  }

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
   * Sends `total` writes, `inflight` at a time, and resolves once every fetch
   * has settled (answered and body read, or rejected). Write i (from `start`
   * to `start + total - 1`) goes to resource r = i mod `resources` with the
   * JSON body {"resource": r, "seq": n} (n = floor(i / resources)), padded
   * with a `pad` string field to about `bodyBytes` bytes when given:
   * - `kind: 'r'` (default): POST /api/r/<r>;
   * - `kind: 'items'`: PATCH /api/items/<r>, the body also carrying
   *   `title: "edit <n>"` (a declared resource's item: the overlay case).
   * A write to a resource starts only after the previous write to the same
   * resource has settled, as a user's second edit follows the first; with
   * 100 resources and 50 in flight this almost never waits, but it makes
   * "the order the page wrote them in" well defined per resource. (A
   * previous write from an earlier call has settled already.)
   *
   * Each write's answer latency (fetch → body read, or → rejection) is
   * timed in the page; the result carries their p50, p95 and mean.
   */
  async function sendWrites({ total, inflight, resources, timeoutMs, start = 0, bodyBytes = 0, kind = 'r' }) {
    const settled = new Array(total);
    const outcomes = new Array(total);
    const latencies = new Array(total);
    let next = 0;

    function bodyOf(resource, seq) {
      const value = kind === 'items' ? { resource, seq, title: `edit ${seq}` } : { resource, seq };
      const plain = JSON.stringify(value);
      if (bodyBytes <= plain.length) return plain;
      return JSON.stringify({ ...value, pad: 'x'.repeat(Math.max(0, bodyBytes - plain.length - 9)) });
    }

    async function write(k) {
      const i = start + k;
      const resource = i % resources;
      const seq = Math.floor(i / resources);
      if (k >= resources) await settled[k - resources];
      const began = performance.now();
      try {
        const response = await fetch(kind === 'items' ? `/api/items/${resource}` : `/api/r/${resource}`, {
          method: kind === 'items' ? 'PATCH' : 'POST',
          headers: { 'content-type': 'application/json' },
          body: bodyOf(resource, seq),
        });
        await response.arrayBuffer();
        outcomes[k] = { status: response.status, queuedId: response.headers.get('x-outbox-queued') };
      } catch (error) {
        outcomes[k] = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
      }
      latencies[k] = performance.now() - began;
    }
    async function lane() {
      while (next < total) {
        const k = next++;
        settled[k] = write(k);
        await settled[k];
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
    const sorted = [...latencies].sort((a, b) => a - b);
    const at = (fraction) => sorted[Math.max(0, Math.ceil(sorted.length * fraction) - 1)];
    const latency = { p50: at(0.5), p95: at(0.95), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length };
    return { total, elapsedMs, statuses, rejected, errors, accepted202WithId: accepted, distinctQueuedIds: queuedIds.size, visibility, latency };
  }

  /**
   * Times `count` calls of window.offlineOutbox.status(), one after another
   * (the page's question, the worker's answer through postMessage). Resolves
   * with each time in ms and the last answer.
   */
  async function timeStatus(count) {
    const times = [];
    let last;
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      last = await window.offlineOutbox.status();
      times.push(performance.now() - started);
    }
    return { times, last };
  }

  /**
   * Times `count` GETs of `url`, one after another, each with its body read
   * and parsed as JSON. Resolves with the times in ms, the statuses, the
   * `X-Outbox-Pending` header of each answer, and the last body.
   */
  async function timeJsonGets({ url, count }) {
    const times = [];
    const statuses = {};
    const pending = {};
    let body;
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      const response = await fetch(url);
      body = await response.json();
      times.push(performance.now() - started);
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      const p = response.headers.get('x-outbox-pending') ?? 'none';
      pending[p] = (pending[p] ?? 0) + 1;
    }
    return { times, statuses, pending, body };
  }

  /** One GET of `url`, timed in the page (fetch → body read): the cold-start case. */
  async function timeOneGet(url) {
    const started = performance.now();
    const response = await fetch(url);
    const text = await response.text();
    return { ms: performance.now() - started, status: response.status, text };
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

  /**
   * Fetches every URL of `urls` once, `inflight` at a time, and checks each
   * answer: status 200 and the body `expected[url]`. The `notice` case's
   * warm-up, and its next pass over the same URLs after the notice.
   */
  async function fetchAll({ urls, expected, inflight }) {
    const statuses = {};
    const errors = {};
    const wrongExamples = [];
    let wrongBodies = 0;
    let next = 0;
    const lane = async () => {
      while (next < urls.length) {
        const url = urls[next++];
        try {
          const response = await fetch(url);
          const text = await response.text();
          statuses[response.status] = (statuses[response.status] ?? 0) + 1;
          if (text !== expected[url] && wrongBodies++ < 10) wrongExamples.push(url);
        } catch (error) {
          const key = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          errors[key] = (errors[key] ?? 0) + 1;
        }
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: inflight }, lane));
    return { count: urls.length, elapsedMs: performance.now() - started, statuses, errors, wrongBodies, wrongExamples };
  }

  /**
   * What Cache Storage holds under the path `prefix`, in every cache of the
   * origin: each URL (path and query) with the SHA-256 of its stored body, so
   * the harness can tell which entries changed byte for byte. Reads Cache
   * Storage directly: nothing reaches a worker or the server.
   */
  async function cachedDigests(prefix) {
    const out = {};
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        const url = new URL(request.url);
        if (!url.pathname.startsWith(prefix)) continue;
        const response = await cache.match(request);
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await response.arrayBuffer()));
        out[url.pathname + url.search] = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
      }
    }
    return out;
  }

  /**
   * The `notice` case: arms what the page does when the one change notice
   * comes, then returns (the harness publishes it next); `noticeOutcome()`
   * resolves with what happened. `mode`, per subject:
   * - `cache-updated` (offline-outbox): register.js's feed forwards the
   *   notice to the worker; the page waits on the BroadcastChannel
   *   `offline-outbox` for a `cache-updated` naming the item, then reads it.
   * - `purge` (Workbox): the page hears the notice on its own EventSource
   *   to `stream`, deletes every cache of the origin (`caches.delete`), then
   *   reads the item (a miss: the worker goes to the network).
   * - `read` (no worker): the page hears the notice on its own EventSource
   *   and reads the item (from the network: there is no cache).
   * A read is `fetch(url)` with its body read; it is fresh when it answers
   * 200 with `expected`. Times are epochNow() (wall clock of the page).
   */
  async function watchNotice({ url, expected, mode, stream, timeoutMs }) {
    const href = new URL(url, location.href).href;
    const from = sseMessages.length;
    const out = { mode, deliveredAt: null, heardAt: null, purgedAt: null, purged: null, freshAt: null, reads: [], updates: [], messages: [], error: null };
    let finish;
    const finished = new Promise((resolve) => (finish = resolve));
    const fail = (error) => {
      out.error ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      finish();
    };
    const read = async () => {
      const startedAt = epochNow();
      const response = await fetch(href);
      const text = await response.text();
      const at = epochNow();
      const fresh = response.status === 200 && text === expected;
      out.reads.push({ startedAt, at, status: response.status, fresh });
      if (fresh) {
        out.freshAt ??= at;
        finish();
      }
    };
    let close;
    if (mode === 'cache-updated') {
      const channel = new BroadcastChannel('offline-outbox');
      channel.onmessage = ({ data }) => {
        if (data?.type !== 'cache-updated') return;
        const at = epochNow();
        out.updates.push({ at, urls: data.urls });
        if (!Array.isArray(data.urls) || !data.urls.includes(href)) return;
        out.heardAt ??= at;
        read().catch(fail);
      };
      close = () => channel.close();
    } else {
      const source = new EventSource(stream);
      await new Promise((resolve, reject) => {
        source.onopen = resolve;
        source.onerror = () => reject(new Error(`${stream}: the page's EventSource did not open`));
      });
      source.onerror = null;
      source.onmessage = async () => {
        try {
          if (mode === 'purge') {
            const names = await caches.keys();
            await Promise.all(names.map((name) => caches.delete(name)));
            out.purgedAt = epochNow();
            out.purged = names;
          }
          await read();
        } catch (error) {
          fail(error);
        }
      };
      // Kept open: the app would keep listening (the feed holds one connection in every mode).
      close = () => {};
    }
    let timer;
    noticeWatch = Promise.race([finished, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]).then(() => {
      clearTimeout(timer);
      close();
      out.messages = sseMessages.slice(from);
      out.deliveredAt = out.messages[0]?.at ?? null;
      if (out.freshAt === null) out.error ??= `no fresh read of ${url} within ${timeoutMs} ms`;
      return out;
    });
    return 'armed';
  }
  let noticeWatch;
  /** Resolves with the outcome of the watch `watchNotice` armed. */
  const noticeOutcome = () => noticeWatch;

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

  window.bench = {
    waitForController,
    sendWrites,
    timeStatus,
    timeJsonGets,
    timeOneGet,
    measureGets,
    waitForCached,
    fetchAll,
    cachedDigests,
    watchNotice,
    noticeOutcome,
    epochNow,
    countStore,
    syncNow,
    syncNowOutcome: undefined,
  };
})();
