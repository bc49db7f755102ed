// The chaos page: an app that saves `items` × `ops` ordered writes. The
// server inlines this file into the page it serves at "/" (before the
// subject's registration tag); the harness calls `window.chaos.*` through
// the browser driver. Plain browser JavaScript, no build step.
//
// Everything the page knows lives in localStorage, written synchronously
// before and after each fetch, so a reload resumes where the page was:
//   chaos:config          what to write and how fast (set by start())
//   chaos:w:<item>:<seq>  one write: every attempt the page made at it,
//                         { i: page instance, t: start, o: outcome, s: status, e: error, d: settled }
//                         o = 'ack'  the page got 2xx (202 included): acknowledged
//                             'fail' the page got another status, or fetch rejected, or its
//                                    own timeout (e = 'timeout') passed
//                             'int'  cut off by a reload: the fetch rejected while the page
//                                    was unloading, or was still open when it went (found on
//                                    the next load)
//                             null   in flight now
//   chaos:loads           each page load: instance, time, whether a worker controlled it
//   chaos:done            when the last write was acknowledged
//
// Rules: op k+1 of an item is issued only after op k was acknowledged; a
// failed attempt is retried (same write, a new fetch) after `retryMs`, as an
// app would; at most `inflight` fetches at once; fetch starts are paced in
// bursts of up to `inflight`, one burst per `inflight × intervalMs`; after a
// reload, a write whose attempt was cut off is issued again (the page never
// learned its outcome).
(() => {
  'use strict';
  const P = 'chaos:';
  const instance = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const recKey = (item, seq) => `${P}w:${item}:${seq}`;
  const readJson = (key, fallback) => {
    const raw = localStorage.getItem(key);
    return raw === null ? fallback : JSON.parse(raw);
  };
  const writeJson = (key, value) => localStorage.setItem(key, JSON.stringify(value));

  const state = { running: false, inFlight: 0, maxInFlight: 0, acked: 0, failures: 0, attempts: 0, done: false, error: null, unloading: false };
  // A reload cancels the page's fetches, and their rejections still reach this
  // document before it goes: those are cut off by the reload, not failures.
  const unloading = () => {
    state.unloading = true;
    // A navigation that does not happen after all leaves the page as it was.
    setTimeout(() => (state.unloading = false), 5000);
  };
  addEventListener('beforeunload', unloading);
  addEventListener('pagehide', unloading);

  // Attempts left in flight by an earlier page instance were cut off by the unload.
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    if (!key?.startsWith(`${P}w:`)) continue;
    const rec = readJson(key, { a: [] });
    let changed = false;
    for (const attempt of rec.a) {
      if (attempt.o === null && attempt.i !== instance) {
        attempt.o = 'int';
        changed = true;
      }
    }
    if (changed) writeJson(key, rec);
  }

  async function waitForController(timeoutMs) {
    const sw = navigator.serviceWorker;
    if (!sw) return false;
    const deadline = Date.now() + timeoutMs;
    while (!sw.controller && Date.now() < deadline) {
      await Promise.race([new Promise((resolve) => sw.addEventListener('controllerchange', resolve, { once: true })), sleep(100)]);
    }
    return Boolean(sw.controller);
  }

  async function run(config) {
    if (state.running) return;
    state.running = true;
    const { items, ops, inflight, intervalMs, retryMs, timeoutMs } = config;
    const next = new Array(items).fill(0);
    state.acked = 0;
    for (let item = 0; item < items; item++) {
      for (let seq = 0; seq < ops; seq++) {
        const rec = readJson(recKey(item, seq), null);
        if (!rec?.a.some((a) => a.o === 'ack')) break;
        next[item] = seq + 1;
        state.acked++;
      }
    }
    const busy = new Set();
    const retryAt = new Array(items).fill(0);
    let cursor = 0;
    // Bursts: up to `inflight` starts, then the budget refills every `inflight × intervalMs`
    // (an app saving a batch at a time), so the limit of fetches in flight is really reached.
    const burstMs = inflight * intervalMs;
    let tokens = inflight;
    let refillAt = performance.now() + burstMs;

    const pick = () => {
      const now = Date.now();
      for (let k = 0; k < items; k++) {
        const item = (cursor + k) % items;
        if (next[item] < ops && !busy.has(item) && retryAt[item] <= now) {
          cursor = item + 1;
          return item;
        }
      }
      return -1;
    };

    async function attempt(item) {
      const seq = next[item];
      const key = recKey(item, seq);
      const rec = readJson(key, { a: [] });
      const mine = { i: instance, t: Date.now(), o: null, s: null, e: null, d: null };
      rec.a.push(mine);
      writeJson(key, rec);
      state.attempts++;
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      try {
        const response = await fetch(`/api/r/${item}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ item, seq }),
          signal: controller.signal,
        });
        await response.arrayBuffer();
        mine.s = response.status;
        mine.o = response.status >= 200 && response.status < 300 ? 'ack' : 'fail';
      } catch (error) {
        mine.o = state.unloading ? 'int' : 'fail';
        mine.e = controller.signal.aborted ? 'timeout' : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      } finally {
        clearTimeout(timer);
      }
      mine.d = Date.now();
      // Written back whole: this page instance is the only writer of this write now.
      const fresh = readJson(key, { a: [] });
      const index = fresh.a.findIndex((a) => a.i === mine.i && a.t === mine.t && a.o === null);
      if (index >= 0) fresh.a[index] = mine;
      else fresh.a.push(mine);
      writeJson(key, fresh);
      if (mine.o === 'ack') {
        next[item] = seq + 1;
        state.acked++;
      } else if (mine.o === 'fail') {
        state.failures++;
        retryAt[item] = Date.now() + retryMs;
      }
    }

    try {
      while (next.some((n) => n < ops)) {
        const now = performance.now();
        if (now >= refillAt) {
          tokens = inflight;
          refillAt = now + burstMs;
        }
        if (state.inFlight >= inflight || tokens <= 0) {
          await sleep(Math.max(1, Math.min(20, refillAt - now)));
          continue;
        }
        const item = pick();
        if (item < 0) {
          await sleep(10);
          continue;
        }
        tokens--;
        busy.add(item);
        state.inFlight++;
        if (state.inFlight > state.maxInFlight) {
          state.maxInFlight = state.inFlight;
          if (state.maxInFlight > Number(localStorage.getItem(`${P}maxInFlight`) ?? 0)) localStorage.setItem(`${P}maxInFlight`, String(state.maxInFlight));
        }
        void attempt(item)
          .catch((error) => (state.error ??= String(error)))
          .finally(() => {
            busy.delete(item);
            state.inFlight--;
          });
      }
      while (state.inFlight > 0) await sleep(10);
      state.done = true;
      if (localStorage.getItem(`${P}done`) === null) localStorage.setItem(`${P}done`, String(Date.now()));
    } catch (error) {
      state.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    } finally {
      state.running = false;
    }
  }

  /** Counts the records of an IndexedDB store without creating the database; null when it does not exist. */
  async function countStore(dbName, storeName) {
    if (typeof indexedDB.databases === 'function') {
      const names = (await indexedDB.databases()).map((d) => d.name);
      if (!names.includes(dbName)) return null;
    }
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

  window.chaos = {
    instance,
    /** Stores the plan and starts writing (the harness calls it once; reloads resume by themselves). */
    start(config) {
      writeJson(`${P}config`, config);
      void run(config);
      return instance;
    },
    progress() {
      return {
        instance,
        running: state.running,
        done: localStorage.getItem(`${P}done`) !== null,
        acked: state.acked,
        inFlight: state.inFlight,
        maxInFlight: state.maxInFlight,
        attempts: state.attempts,
        failures: state.failures,
        error: state.error,
      };
    },
    /** Every write the page attempted, with its attempts. */
    records() {
      const out = [];
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i);
        const m = key && /^chaos:w:(\d+):(\d+)$/.exec(key);
        if (m) out.push({ item: Number(m[1]), seq: Number(m[2]), attempts: readJson(key, { a: [] }).a });
      }
      return {
        records: out,
        loads: readJson(`${P}loads`, []),
        done: Number(localStorage.getItem(`${P}done`)) || null,
        maxInFlight: Number(localStorage.getItem(`${P}maxInFlight`) ?? 0),
      };
    },
    /**
     * What is left in the subject's queue: offline-outbox's status() (its
     * page API), or the number of requests in Workbox's IndexedDB queue.
     */
    async queue(subject, timeoutMs = 5000) {
      const timeout = sleep(timeoutMs).then(() => {
        throw new Error(`queue(): no answer within ${timeoutMs} ms`);
      });
      if (subject === 'offline-outbox') {
        if (!window.offlineOutbox) throw new Error('window.offlineOutbox is missing: register.js did not load');
        const status = await Promise.race([window.offlineOutbox.status(), timeout]);
        return { kind: 'offline-outbox', ...status };
      }
      const count = await Promise.race([countStore('workbox-background-sync', 'requests'), timeout]);
      return { kind: 'workbox', requests: count ?? 0 };
    },
    /** Resolves once the page is controlled (false after `timeoutMs`). */
    waitForController,
  };

  // A reload resumes the plan by itself, once a worker controls the page (or
  // after 10 s without one: the writes then go to the network unguarded, and
  // the load is recorded as uncontrolled).
  const config = readJson(`${P}config`, null);
  const loads = readJson(`${P}loads`, []);
  const load = { instance, at: Date.now(), resumed: config !== null, controlled: null, failedResources: [], offlineOutbox: null };
  loads.push(load);
  writeJson(`${P}loads`, loads);
  const updateLoad = (change) => {
    const all = readJson(`${P}loads`, []);
    const mine = all.find((l) => l.instance === instance);
    if (mine) Object.assign(mine, change(mine));
    writeJson(`${P}loads`, all);
  };
  // A script or other resource of the page that did not load (register.js, offline, say).
  addEventListener(
    'error',
    (event) => {
      const src = event.target?.src ?? event.target?.href;
      if (src) updateLoad((l) => ({ failedResources: [...l.failedResources, src] }));
    },
    true,
  );
  addEventListener('load', () => updateLoad(() => ({ offlineOutbox: typeof window.offlineOutbox })));
  if (config && localStorage.getItem(`${P}done`) === null) {
    void waitForController(10_000).then((controlled) => {
      updateLoad(() => ({ controlled }));
      return run(config);
    });
  }
})();
