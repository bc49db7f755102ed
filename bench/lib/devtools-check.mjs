/**
 * Checks bench/lib/devtools.mjs against a real Chromium, and shows its
 * method on a worker small enough to reason about:
 *
 *   node bench/lib/devtools-check.mjs
 *
 * A page on 127.0.0.1 registers a worker that answers GET /instance with an
 * id drawn when its script runs (a restart shows as a new id) and, asked by
 * postMessage, holds ALLOCATE_MIB MiB of doubles in a global. The check
 * reads the worker's heap, has it allocate, reads again (the heap must have
 * grown by about that much), stops the worker, and fetches: the worker must
 * start afresh (new id, the allocation gone from its heap), five times. It
 * prints the numbers, and how a restart waits for Playwright's Node process
 * (devtools.mjs, top comment), and exits 1 if a check fails.
 */
import { createServer } from 'node:http';
import { launchBrowser } from './browser.mjs';
import { stopServiceWorkers, workerHeapBytes } from './devtools.mjs';
import { median, withTimeout } from './util.mjs';

const MIB = 1024 * 1024;
/** What the worker is asked to hold: arrays of 131,072 doubles, 1 MiB each, all on the JS heap. */
const ALLOCATE_MIB = 20;
/** How far the heap's growth may be from ALLOCATE_MIB (V8 bookkeeping, the message's own objects). */
const GROWTH_TOLERANCE_MIB = 2;
/** Stop-then-fetch cycles, and GETs of a running worker after each. */
const COLD_STARTS = 5;
const WARM_GETS = 3;
/**
 * How long Node blocks its event loop, and when (within that) the page
 * starts a GET through a restarting worker: late enough that the worker's
 * restart reaches Playwright while Node is busy.
 */
const NODE_BUSY_MS = 300;
const FETCH_AFTER_MS = 50;
/** Each step in the page, and the whole check. */
const STEP_TIMEOUT_MS = 15_000;
const CHECK_TIMEOUT_MS = 120_000;

const WORKER = `
const instance = crypto.randomUUID();
let held = [];
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('message', (event) => {
  held = Array.from({ length: event.data.allocateMiB }, () => new Array(131072).fill(0.5));
  event.source.postMessage({ heldMiB: held.length });
});
self.addEventListener('fetch', (event) => {
  if (new URL(event.request.url).pathname === '/instance') event.respondWith(new Response(instance));
});
`;

const PAGE = `<!doctype html><title>devtools check</title><script>
navigator.serviceWorker.register('/sw.js');
window.check = {
  async controlled() {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
    return navigator.serviceWorker.controller.scriptURL;
  },
  async instance() {
    const start = performance.now();
    const response = await fetch('/instance');
    const id = await response.text();
    return { id, ms: performance.now() - start };
  },
  // Starts a GET /instance in afterMs and returns at once; window.pending settles with its time in ms.
  startInstance(afterMs) {
    window.pending = new Promise((resolve) => setTimeout(resolve, afterMs)).then(async () => {
      const start = performance.now();
      await (await fetch('/instance')).text();
      return performance.now() - start;
    });
  },
  allocate(allocateMiB) {
    return new Promise((resolve) => {
      navigator.serviceWorker.addEventListener('message', (event) => resolve(event.data), { once: true });
      navigator.serviceWorker.controller.postMessage({ allocateMiB });
    });
  },
};
</script>`;

/** Serves the page and the worker; counts the GETs of /instance that reach it (the worker answers them all). */
async function startServer() {
  const seen = { instance: 0 };
  const server = createServer((request, response) => {
    const path = new URL(request.url, 'http://127.0.0.1').pathname;
    if (path === '/sw.js') {
      response.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
      response.end(WORKER);
    } else if (path === '/') {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(PAGE);
    } else {
      if (path === '/instance') seen.instance++;
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

const failures = [];
function check(name, ok, detail) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail}`);
  if (!ok) failures.push(name);
}

const mib = (bytes) => `${(bytes / MIB).toFixed(2)} MiB`;
const ms = (value) => `${value.toFixed(1)} ms`;

async function run(page, server) {
  const inPage = (what, script, arg) => withTimeout(page.evaluate(script, arg), STEP_TIMEOUT_MS, what);
  const instance = () => inPage('GET /instance', () => window.check.instance());

  await withTimeout(page.goto(`${server.origin}/`), STEP_TIMEOUT_MS, 'loading the page');
  const controller = await inPage('waiting for the worker to control the page', () => window.check.controlled());
  check('page controlled', controller === `${server.origin}/sw.js`, controller);

  const first = await instance();
  const before = await workerHeapBytes(page);
  const allocated = await inPage('asking the worker to allocate', (size) => window.check.allocate(size), ALLOCATE_MIB);
  const after = await workerHeapBytes(page);
  const growth = after.usedBytes - before.usedBytes;
  console.log(
    `heap before: ${mib(before.usedBytes)} used of ${mib(before.totalBytes)}; after holding ${allocated.heldMiB} MiB: ${mib(after.usedBytes)} used of ${mib(after.totalBytes)}`,
  );
  check(`heap grew by about ${ALLOCATE_MIB} MiB`, Math.abs(growth / MIB - ALLOCATE_MIB) <= GROWTH_TOLERANCE_MIB, `+${mib(growth)} (${growth} bytes)`);
  const same = await instance();
  check('reading the heap did not restart the worker', same.id === first.id, `${first.id} then ${same.id}`);

  let previous = first.id;
  const stopTimes = [];
  const coldTimes = [];
  const warmTimes = [];
  for (let cycle = 0; cycle < COLD_STARTS; cycle++) {
    const stopStart = performance.now();
    const stopped = await stopServiceWorkers(page);
    stopTimes.push(performance.now() - stopStart);
    check(`cycle ${cycle + 1}: the worker stopped`, stopped.length === 1 && stopped[0] === controller, JSON.stringify(stopped));
    if (cycle === 0) {
      const again = await stopServiceWorkers(page);
      check('stopping a stopped worker stops nothing', again.length === 0, JSON.stringify(again));
      const refused = await workerHeapBytes(page).then(
        () => 'read a heap',
        (error) => error.message,
      );
      check('a stopped worker has no heap to read', /is stopped/.test(refused), refused);
    }
    const cold = await instance();
    coldTimes.push(cold.ms);
    check(`cycle ${cycle + 1}: the next fetch started it afresh`, cold.id !== previous, `${previous} then ${cold.id}`);
    previous = cold.id;
    if (cycle === 0) {
      const restarted = await workerHeapBytes(page);
      console.log(`heap after the restart: ${mib(restarted.usedBytes)} used of ${mib(restarted.totalBytes)}`);
      check(`the restarted worker's heap no longer holds the ${ALLOCATE_MIB} MiB`, restarted.usedBytes < before.usedBytes + GROWTH_TOLERANCE_MIB * MIB, mib(restarted.usedBytes));
    }
    for (let i = 0; i < WARM_GETS; i++) warmTimes.push((await instance()).ms);
  }
  // Not a check of devtools.mjs: what a cold start under Playwright includes
  // (devtools.mjs, top comment). Node is kept busy while the page fetches.
  const heldFor = async (cold) => {
    if (cold) await stopServiceWorkers(page);
    await inPage('starting GET /instance', (afterMs) => window.check.startInstance(afterMs), FETCH_AFTER_MS);
    const end = performance.now() + NODE_BUSY_MS;
    while (performance.now() < end);
    return inPage('GET /instance', () => window.pending);
  };
  const warmBusy = await heldFor(false);
  const coldBusy = await heldFor(true);
  console.log(
    `with Node busy from ${FETCH_AFTER_MS} ms before the page's GET to ${NODE_BUSY_MS - FETCH_AFTER_MS} ms after: through a running worker ${ms(warmBusy)}, through a stopped one ${ms(coldBusy)}` +
      ` (${coldBusy >= NODE_BUSY_MS - FETCH_AFTER_MS ? 'the restart waited for Playwright in Node' : 'the restart did not wait for Node'})`,
  );
  check('every GET /instance was answered by the worker', server.seen.instance === 0, `${server.seen.instance} reached the server`);
  console.log(
    `stopServiceWorkers: median ${ms(median(stopTimes))} (${stopTimes.map(ms).join(', ')}); ` +
      `GET through a stopped worker: median ${ms(median(coldTimes))} (${coldTimes.map(ms).join(', ')}); through a running one: median ${ms(median(warmTimes))}`,
  );
}

const server = await startServer();
let browser;
try {
  browser = await launchBrowser();
  console.log(`Chromium ${browser.version}, ${server.origin}`);
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await withTimeout(run(page, server), CHECK_TIMEOUT_MS, 'the whole check');
} catch (error) {
  failures.push(error instanceof Error ? error.message : String(error));
  console.error(error);
} finally {
  await browser?.close().catch((error) => console.error(`closing Chromium: ${error.message}`));
  await server.close();
}
console.log(failures.length ? `FAILED: ${failures.join('; ')}` : 'all checks passed');
process.exitCode = failures.length ? 1 : 0;
