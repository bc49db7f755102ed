/**
 * One trial = one subject, one case, one run: a new server, a new browser
 * with a fresh profile, the page loaded and controlled by the subject's
 * worker, then the case's steps. Trials share nothing.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { launchBrowser } from './browser.mjs';
import { CHANGES_STREAM, itemBody, startBenchServer } from './server.mjs';
import { CALIBRATION, NOTICE_MANIFEST, pageHtml } from './subjects.mjs';
import { HarnessError, median, NotReadyError, sleep, withTimeout } from './util.mjs';

/** The workload (bench/README.md, "The cases"). */
export const WORKLOAD = {
  writes: 1000,
  resources: 100,
  inflight: 50,
  writeDelayMs: 20,
  /** Chromium's connections per host (HTTP/1.1): the replay's ceiling. */
  connectionsPerHost: 6,
};

/** The `get` case (bench/README.md, "The cases"). */
export const GET_WORKLOAD = {
  /** Distinct item URLs fetched once to fill the cache, then cycled over. */
  warmUrls: 50,
  /** Sequential GETs measured per phase (cache hits, unmatched, and each on the page with no worker). */
  measuredGets: 500,
  /** GETs per turn: the phases take turns 50 GETs at a time. */
  block: 50,
  /** The cached route, and a path no route matches (both answered at once by the server). */
  cachedPrefix: '/api/items/',
  unmatchedPrefix: '/api/other/',
};

/** The `notice` case (bench/README.md, "The cases"). */
export const NOTICE_WORKLOAD = {
  /** Two declared resources, each 495 items and its collection in 5 pages of 99: 2 × (495 + 5) = 1,000 cached entries. */
  catalog: { resources: ['items', 'notes'], items: 495, pageSize: 99 },
  /** The one item that changes, and is named by the one notice. */
  changed: { resource: 'items', id: '42' },
  /** The warm-up and the next pass fetch the 1,000 URLs this many at a time. */
  inflight: 6,
  /** Plain GETs (no route: the network) whose median is "one round trip". */
  roundTripGets: 20,
  /** After the fresh read, how long the server keeps counting requests the notice caused. */
  settleMs: 1_000,
  /** How long the page waits for a fresh read of the item after the notice. */
  freshTimeoutMs: 10_000,
};
/** The notice case's cached entries, all under this path. */
const CATALOG_PREFIX = '/api/';

/**
 * The `get` case's page is cross-origin isolated, so performance.now() in it
 * ticks in 5 µs rather than 100 µs: a GET served from cache takes about a
 * millisecond, and the targets compare such times to 10 %.
 */
export const ISOLATED_PAGE_HEADERS = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

export const SEND_TIMEOUT_MS = 120_000;
const GET_TIMEOUT_MS = 120_000;
/** After every write has been answered, how long to keep listening for duplicates. */
export const DUPLICATE_GRACE_MS = 1_000;

/**
 * @param {import('./subjects.mjs').Subject} subject
 */
export async function openTrial(subject, { controlled = true, pageHeaders = {}, manifest, catalog } = {}) {
  const files = await subject.files({ manifest });
  const server = await startBenchServer({ page: await pageHtml(subject.registerTag), files, writeDelayMs: WORKLOAD.writeDelayMs, pageHeaders, catalog });
  let browser;
  try {
    browser = await launchBrowser();
    const { context } = browser;
    // Distinct console errors and warnings, with counts (offline, every failed
    // fetch logs "Failed to load resource": expected, and counted once).
    const consoleLog = {};
    const keep = (line) => {
      if (line in consoleLog || Object.keys(consoleLog).length < 20) consoleLog[line] = (consoleLog[line] ?? 0) + 1;
    };
    // Page and worker console (Playwright reports both on the context).
    context.on('console', (message) => ['error', 'warning'].includes(message.type()) && keep(`${message.type()}: ${message.text()}`));
    context.on('weberror', (error) => keep(`uncaught: ${error.error().message}`));

    const page = context.pages()[0] ?? (await context.newPage());
    // Background Sync as Chromium records it (what DevTools → Application →
    // Background sync shows): registrations, dispatches, completions.
    // Observing is passive; it is how the report knows when `sync` fired.
    const syncEvents = [];
    const cdp = await withTimeout(context.newCDPSession(page), 10_000, 'opening a DevTools session');
    cdp.on('BackgroundService.backgroundServiceEventReceived', ({ backgroundServiceEvent: e }) => {
      syncEvents.push({ epochMs: e.timestamp * 1000, event: e.eventName, tag: e.instanceId, ...Object.fromEntries(e.eventMetadata.map((m) => [m.key, m.value])) });
    });
    await withTimeout(cdp.send('BackgroundService.startObserving', { service: 'backgroundSync' }), 10_000, 'observing Background Sync');
    await withTimeout(cdp.send('BackgroundService.setRecording', { shouldRecord: true, service: 'backgroundSync' }), 10_000, 'recording Background Sync');

    await withTimeout(page.goto(`${server.origin}/`), 30_000, `${subject.name}: loading the bench page`);
    if (controlled) {
      const script = await withTimeout(
        page.evaluate((ms) => window.bench.waitForController(ms), 30_000),
        35_000,
        `${subject.name}: waiting for the worker to control the page`,
      );
      const path = new URL(script).pathname;
      if (!subject.workerPath.test(path)) throw new HarnessError(`${subject.name}: the page is controlled by ${script}, not the subject's worker`);
    }
    const close = async () => {
      try {
        await browser.close();
      } finally {
        await server.close();
      }
    };
    return { server, browser, context, page, consoleLog, syncEvents, close };
  } catch (error) {
    await browser?.close().catch(() => {});
    await server.close();
    throw error;
  }
}

/**
 * Goes offline (page and worker) and sends `writes` writes from the page.
 * Proves the network was really cut: the server must receive nothing.
 */
async function queueOffline(trial, subject, writes) {
  const before = trial.server.deliveries.length;
  const offlineAt = epochNow();
  await withTimeout(trial.context.setOffline(true), 10_000, 'context.setOffline(true)');
  /** @type {import('./subjects.mjs').SendResult} */
  const sent = await withTimeout(
    trial.page.evaluate((args) => window.bench.sendWrites(args), { total: writes, inflight: WORKLOAD.inflight, resources: WORKLOAD.resources, timeoutMs: SEND_TIMEOUT_MS }),
    SEND_TIMEOUT_MS + 10_000,
    `${subject.name}: sending ${writes} writes offline`,
  );
  const queued = await withTimeout(subject.countQueued(trial.page, sent), 30_000, `${subject.name}: counting queued writes`);
  const leaked = trial.server.deliveries.length - before;
  if (leaked > 0) throw new HarnessError(`${subject.name}: the server received ${leaked} writes while offline; context.setOffline(true) did not cut the worker's network`);
  return { sent, queued, offlineAt };
}

/**
 * Can the subject queue a write at all? One write, offline. Throws
 * NotReadyError when it is not queued, saying what happened instead.
 */
export async function probe(subject) {
  let trial;
  try {
    trial = await openTrial(subject);
  } catch (error) {
    throw new NotReadyError(`${subject.name} could not be loaded: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    const { sent, queued } = await queueOffline(trial, subject, 1);
    if (queued !== 1) {
      const got = Object.keys(sent.errors).length ? `the page's fetch rejected (${Object.keys(sent.errors).join('; ')})` : `the page got status ${JSON.stringify(sent.statuses)}`;
      throw new NotReadyError(`${subject.name} did not queue an offline write: ${got}; expected ${subject.queuedBy}.`);
    }
    return { chromium: trial.browser.version };
  } finally {
    await trial.close();
  }
}

export function check(name, ok, detail) {
  return { name, ok: Boolean(ok), detail };
}

function queuedCheck(subject, queued) {
  return check(`writes queued (${subject.queuedShort})`, queued === WORKLOAD.writes, `${queued}/${WORKLOAD.writes}`);
}

/**
 * Case "enqueue": offline, 1,000 writes, 50 in flight; wall time (in the
 * page) until every fetch has settled.
 */
export async function runEnqueue(subject) {
  const trial = await openTrial(subject);
  try {
    const { sent, queued, offlineAt } = await queueOffline(trial, subject, WORKLOAD.writes);
    return {
      elapsedMs: sent.elapsedMs,
      writesPerSec: (WORKLOAD.writes / sent.elapsedMs) * 1000,
      queued,
      sent,
      checks: [queuedCheck(subject, queued)],
      syncEvents: relativeTo(trial.syncEvents, offlineAt),
      console: trial.consoleLog,
    };
  } finally {
    await trial.close();
  }
}

/**
 * Case "replay": queue 1,000 writes offline as in "enqueue", go online, and
 * measure on the server until every write has been answered (or the cap).
 */
export async function runReplay(subject, capMs) {
  const trial = await openTrial(subject);
  try {
    const { sent, queued, offlineAt } = await queueOffline(trial, subject, WORKLOAD.writes);
    const checks = [queuedCheck(subject, queued)];
    if (queued === 0) throw new HarnessError(`${subject.name}: no write was queued (${JSON.stringify(sent.statuses)}, ${sent.rejected} rejected), nothing to replay`);

    const from = trial.server.deliveries.length;
    const onlineAt = performance.now();
    const onlineEpoch = epochNow();
    await withTimeout(trial.context.setOffline(false), 10_000, 'context.setOffline(false)');
    const afterOnline = await withTimeout(subject.afterOnline(trial.page), 10_000, `${subject.name}: the page's step after going online`);
    const complete = await trial.server.waitForAnswered(WORKLOAD.writes, Math.max(0, capMs - (performance.now() - onlineAt)));
    const stoppedAt = performance.now();
    if (complete) await sleep(DUPLICATE_GRACE_MS);

    const deliveries = trial.server.deliveries.slice(from);
    const analysis = analyzeDeliveries(deliveries, onlineAt);
    const remaining = await withTimeout(subject.remaining(trial.page), 30_000, `${subject.name}: counting writes still queued`).catch((error) => `unknown (${error.message})`);
    const syncEvents = relativeTo(trial.syncEvents, onlineEpoch);
    const dispatched = syncEvents.filter((e) => e.event === 'Dispatched sync event');
    const syncNowOutcome = await withTimeout(
      trial.page.evaluate(() => window.bench.syncNowOutcome ?? null),
      10_000,
      'reading the outcome of syncNow()',
    ).catch(() => null);

    checks.push(
      // Per resource, in arrival order, seq strictly increasing (a repeat counts too).
      check('per-resource order: writes out of order', analysis.orderViolations === 0, String(analysis.orderViolations)),
      check('writes delivered more than once', analysis.duplicates === 0, String(analysis.duplicates)),
      check('malformed deliveries', analysis.bodyErrors === 0, String(analysis.bodyErrors)),
    );
    if (subject.name === 'offline-outbox') {
      const k = analysis.keys;
      // Keep the keys in the raw data only when they are worth a look.
      if (k.missing + k.deliveredMoreThanOnce + k.sharedByWrites + k.writesWithSeveralKeys > 0) analysis.raw.forEach((row, i) => row.push(deliveries[i].key));
      checks.push(
        check(
          'exactly one delivery per Idempotency-Key',
          k.missing === 0 && k.deliveredMoreThanOnce === 0 && k.sharedByWrites === 0 && k.writesWithSeveralKeys === 0,
          k.missing + k.deliveredMoreThanOnce + k.sharedByWrites + k.writesWithSeveralKeys === 0
            ? `${k.distinct} keys, each once`
            : `${k.missing} without key, ${k.deliveredMoreThanOnce} keys repeated, ${k.sharedByWrites} keys shared, ${k.writesWithSeveralKeys} writes with several keys`,
        ),
      );
    }
    return {
      complete,
      // Time until the server had answered every write; the cap (a lower bound) when it never did.
      timeToAllMs: complete ? analysis.allAnsweredMs : round(stoppedAt - onlineAt),
      capMs,
      queueElapsedMs: sent.elapsedMs,
      queued,
      afterOnline,
      syncNowOutcome,
      remaining,
      maxInFlightAtServer: trial.server.maxInFlight(),
      // Background Sync: when `sync` was first dispatched after going online, and whether it was while offline.
      syncDispatchedMs: dispatched.find((e) => e.atMs >= 0)?.atMs ?? null,
      syncDispatchedWhileOffline: dispatched.filter((e) => e.atMs < 0 && e.epochMs >= offlineAt).length,
      syncEvents,
      ...analysis,
      checks,
      console: trial.consoleLog,
    };
  } finally {
    await trial.close();
  }
}

/** Nearest-rank percentile of `times` (ms), rounded to 1 µs. */
function percentile(times, fraction) {
  const sorted = [...times].sort((a, b) => a - b);
  return roundUs(sorted[Math.max(0, Math.ceil(sorted.length * fraction) - 1)] ?? Number.NaN);
}

const roundUs = (ms) => (Number.isFinite(ms) ? Math.round(ms * 1000) / 1000 : null);

/**
 * One phase of the `get` case on one page: its GETs' times (in the page),
 * what the page got, and how many GETs the page's server answered meanwhile.
 */
function newPhase() {
  return { times: [], statuses: {}, errors: {}, wrongBodies: 0, crossOriginIsolated: true, atServer: { cached: 0, unmatched: 0 } };
}

/** `count` sequential GETs from `page` over `urls`, added to `phase`. */
async function timedGets(page, server, label, urls, count, phase) {
  const expected = Object.fromEntries(urls.map((url) => [url, itemBody(url.slice(url.lastIndexOf('/') + 1))]));
  const before = { cached: server.getCount(GET_WORKLOAD.cachedPrefix), unmatched: server.getCount(GET_WORKLOAD.unmatchedPrefix) };
  const got = await withTimeout(
    page.evaluate((args) => window.bench.measureGets(args), { urls, expected, count }),
    GET_TIMEOUT_MS,
    `${label}: ${count} GETs of ${urls[0]} …`,
  );
  phase.times.push(...got.times);
  for (const [status, n] of Object.entries(got.statuses)) phase.statuses[status] = (phase.statuses[status] ?? 0) + n;
  for (const [error, n] of Object.entries(got.errors)) phase.errors[error] = (phase.errors[error] ?? 0) + n;
  phase.wrongBodies += got.wrongBodies;
  phase.crossOriginIsolated &&= got.crossOriginIsolated;
  phase.atServer.cached += server.getCount(GET_WORKLOAD.cachedPrefix) - before.cached;
  phase.atServer.unmatched += server.getCount(GET_WORKLOAD.unmatchedPrefix) - before.unmatched;
  return phase;
}

/** A phase's summary for the results: median, p95, counts, and every time (µs precision). */
function summarizePhase(phase) {
  return {
    count: phase.times.length,
    medianMs: roundUs(median(phase.times)),
    p95Ms: percentile(phase.times, 0.95),
    ok: phase.statuses[200] ?? 0,
    wrongBodies: phase.wrongBodies,
    statuses: phase.statuses,
    errors: phase.errors,
    crossOriginIsolated: phase.crossOriginIsolated,
    atServer: phase.atServer,
    times: phase.times.map((t) => roundUs(t)),
  };
}

const answeredCheck = (label, phase) =>
  check(
    `${label}: 200 with the expected body`,
    phase.ok === phase.count && phase.wrongBodies === 0,
    `${phase.ok}/${phase.count}${phase.wrongBodies ? `, ${phase.wrongBodies} wrong bodies` : ''}${Object.keys(phase.errors).length ? `, rejected: ${JSON.stringify(phase.errors)}` : ''}`,
  );

/**
 * The steps of the `get` case, the same for both subjects and for the
 * no-worker calibration (where the subject's page has no worker).
 *
 * Two pages in the one browser: the subject's page, and beside it a page of
 * a second origin (its own server, another port) that no worker controls:
 * the "page with no worker". The subject's page fetches each of the 50 item
 * URLs once (a worker stores them) and the harness waits until the stores
 * have landed in Cache Storage. Then, in rounds, 50 GETs at a time in turn:
 * item URLs on the subject's page (cache hits), the same on the page beside
 * it (the server), /api/other/ URLs on the subject's page (no route: the
 * network) and the same beside it; 500 of each in all. Taking turns block by
 * block puts each phase and its no-worker twin under the same machine load,
 * so their difference does not drift with the machine.
 */
async function getSteps(trial, name, { worker }) {
  const { warmUrls, measuredGets, block, cachedPrefix, unmatchedPrefix } = GET_WORKLOAD;
  const itemUrls = Array.from({ length: warmUrls }, (_, i) => `${cachedPrefix}${i}`);
  const otherUrls = Array.from({ length: warmUrls }, (_, i) => `${unmatchedPrefix}${i}`);

  const bare = await startBenchServer({ page: await pageHtml(''), files: new Map(), writeDelayMs: WORKLOAD.writeDelayMs, pageHeaders: ISOLATED_PAGE_HEADERS });
  try {
    const besidePage = await withTimeout(trial.context.newPage(), 10_000, 'opening the page with no worker');
    await withTimeout(besidePage.goto(`${bare.origin}/`), 30_000, 'loading the page with no worker');
    if (await besidePage.evaluate(() => Boolean(navigator.serviceWorker.controller))) throw new HarnessError('the page beside the subject is controlled by a worker');

    const warm = await timedGets(trial.page, trial.server, name, itemUrls, warmUrls, newPhase());
    const cachedAfterWarm = worker
      ? await withTimeout(
          trial.page.evaluate((args) => window.bench.waitForCached(...args), [cachedPrefix, warmUrls, 10_000]),
          20_000,
          `${name}: waiting for the cache`,
        )
      : null;

    const phases = { cached: newPhase(), unmatched: newPhase(), bareCached: newPhase(), bareUnmatched: newPhase() };
    const steps = [
      () => timedGets(trial.page, trial.server, name, itemUrls, block, phases.cached),
      () => timedGets(besidePage, bare, 'no worker beside', itemUrls, block, phases.bareCached),
      () => timedGets(trial.page, trial.server, name, otherUrls, block, phases.unmatched),
      () => timedGets(besidePage, bare, 'no worker beside', otherUrls, block, phases.bareUnmatched),
    ];
    for (let round = 0; round < measuredGets / block; round++) {
      // Each round in the other order than the last, so no phase always follows the same one.
      for (const step of round % 2 ? [...steps].reverse() : steps) await step();
    }
    const unmatchedStored = await withTimeout(
      trial.page.evaluate((args) => window.bench.waitForCached(...args), [unmatchedPrefix, 1, 0]),
      20_000,
      `${name}: reading Cache Storage`,
    );
    await besidePage.close();

    const out = Object.fromEntries(Object.entries(phases).map(([key, phase]) => [key, summarizePhase(phase)]));
    const { cached, unmatched, bareCached, bareUnmatched } = out;
    const warmed = summarizePhase(warm);
    const checks = [
      check(
        'pages cross-origin isolated (5 µs timer)',
        Object.values(out).every((p) => p.crossOriginIsolated),
        Object.values(out).every((p) => p.crossOriginIsolated) ? 'both' : 'no',
      ),
      answeredCheck('warm-up GETs', warmed),
      check('warm-up GETs reached the server', warm.atServer.cached === warmUrls, `${warm.atServer.cached}/${warmUrls}`),
      answeredCheck(worker ? 'cached GETs' : 'item GETs', cached),
      worker
        ? check(
            'cached GETs the server saw (0: all from the cache)',
            cached.atServer.cached === 0 && cachedAfterWarm === warmUrls,
            `${cached.atServer.cached} of ${measuredGets}; ${cachedAfterWarm}/${warmUrls} URLs in Cache Storage`,
          )
        : check('item GETs reached the server (no worker, no HTTP cache)', cached.atServer.cached === measuredGets, `${cached.atServer.cached}/${measuredGets}`),
      answeredCheck('unmatched GETs', unmatched),
      check(
        'unmatched GETs reached the server, none stored',
        unmatched.atServer.unmatched === measuredGets && unmatchedStored === 0,
        `${unmatched.atServer.unmatched}/${measuredGets}, ${unmatchedStored} stored`,
      ),
      answeredCheck('page with no worker beside: GETs', {
        ...bareCached,
        ok: bareCached.ok + bareUnmatched.ok,
        count: bareCached.count + bareUnmatched.count,
        wrongBodies: bareCached.wrongBodies + bareUnmatched.wrongBodies,
        errors: { ...bareCached.errors, ...bareUnmatched.errors },
      }),
      check(
        'page with no worker beside: every GET reached its server',
        bareCached.atServer.cached === measuredGets && bareUnmatched.atServer.unmatched === measuredGets,
        `${bareCached.atServer.cached + bareUnmatched.atServer.unmatched}/${2 * measuredGets}`,
      ),
    ];
    return {
      warm: warmed,
      ...out,
      // The subject's median minus the page's beside it, measured in turns (ms).
      cachedOverBareMs: roundUs(cached.medianMs - bareCached.medianMs),
      unmatchedOverBareMs: roundUs(unmatched.medianMs - bareUnmatched.medianMs),
      cachedAfterWarm,
      checks,
      console: trial.consoleLog,
    };
  } finally {
    await bare.close();
  }
}

/**
 * Case "get": GETs of a cache-first route served from the cache through the
 * subject's worker, and GETs no route matches, timed one by one in the page,
 * in turns with the same GETs on a page with no worker beside it.
 */
export async function runGet(subject) {
  const trial = await openTrial(subject, { pageHeaders: ISOLATED_PAGE_HEADERS });
  try {
    return await getSteps(trial, subject.name, { worker: true });
  } finally {
    await trial.close();
  }
}

/**
 * Calibration for "get" (no subject): the same steps with no worker on
 * either page, so every GET goes to a server that answers at once on
 * loopback. Its "cached" phase is plain network, and its difference to the
 * page beside it is the method's own bias (ideally 0).
 */
export async function runNoWorkerGet() {
  const trial = await openTrial(CALIBRATION.noWorker, { controlled: false, pageHeaders: ISOLATED_PAGE_HEADERS });
  try {
    return await getSteps(trial, CALIBRATION.noWorker.name, { worker: false });
  } finally {
    await trial.close();
  }
}

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** Resolves once `test()` holds, polling; false after `timeoutMs`. */
async function waitUntil(test, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (!test()) {
    if (performance.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/**
 * The page's wall clock against this process's: the best of 10
 * page.evaluate round trips. `offsetMs` is page minus here, good to
 * ± `uncertaintyMs` (half the quickest round trip).
 */
async function pageClock(page) {
  let best = null;
  for (let i = 0; i < 10; i++) {
    const sent = epochNow();
    const at = await withTimeout(
      page.evaluate(() => window.bench.epochNow()),
      10_000,
      'reading the page clock',
    );
    const back = epochNow();
    if (!best || (back - sent) / 2 < best.uncertaintyMs) best = { offsetMs: at - (sent + back) / 2, uncertaintyMs: (back - sent) / 2 };
  }
  return { offsetMs: roundUs(best.offsetMs), uncertaintyMs: roundUs(best.uncertaintyMs) };
}

/**
 * The steps of the `notice` case, the same for every subject and for the
 * no-worker calibration; only what the page does on the notice differs
 * (`subject.noticeMode`, see page.js's watchNotice).
 *
 * 1. Warm-up: the page fetches the 1,000 catalog URLs (2 resources × (495
 *    items + 5 collection pages)), 6 at a time; a worker stores them, and the
 *    harness waits until all 1,000 are in Cache Storage and takes the SHA-256
 *    of each stored body.
 * 2. One round trip: 20 plain GETs from the page, one after another, of a
 *    path no route matches (/api/other/:id, answered at once); their median.
 * 3. The notice: the page arms its watch, the server changes item 42 of
 *    `items` (version 2) and publishes one `updated` notice on the feed. The
 *    page stamps when the notice reached it (its EventSource) and when its
 *    read of the item first returned the new body.
 * 4. For `settleMs` more, the server keeps counting; then the harness reads
 *    Cache Storage again (which entries changed, byte for byte).
 * 5. The next pass: the page fetches the 1,000 URLs again, as an app going
 *    on would; what reaches the server is what getting back to the warm
 *    state costs (and every answer must be the server's current body).
 */
async function noticeSteps(trial, subject, { worker }) {
  const { server, page } = trial;
  const feed = server.notices;
  const { changed, inflight, roundTripGets, settleMs, freshTimeoutMs } = NOTICE_WORKLOAD;
  const paths = feed.paths();
  const currentBodies = () => Object.fromEntries(paths.map((path) => [path, feed.body(path)]));
  const itemPath = `/api/${changed.resource}/${changed.id}`;
  const affected = new Set(feed.affected(changed.resource, changed.id));
  const digests = () =>
    withTimeout(
      page.evaluate((prefix) => window.bench.cachedDigests(prefix), CATALOG_PREFIX),
      60_000,
      `${subject.name}: reading Cache Storage`,
    );

  // 1. Warm-up.
  const warmFrom = feed.gets.length;
  const warmBodies = currentBodies();
  const warm = await withTimeout(
    page.evaluate((args) => window.bench.fetchAll(args), { urls: paths, expected: warmBodies, inflight }),
    120_000,
    `${subject.name}: warm-up, ${paths.length} GETs`,
  );
  const warmAtServer = feed.gets.length - warmFrom;
  const cachedBefore = worker
    ? await withTimeout(
        page.evaluate((args) => window.bench.waitForCached(...args), [CATALOG_PREFIX, paths.length, 20_000]),
        30_000,
        `${subject.name}: waiting for the cache`,
      )
    : null;
  const before = worker ? await digests() : null;
  const storedAsServed = before ? paths.filter((path) => before[path] === sha256(warmBodies[path])).length : null;

  // offline-outbox's page connects to the feed through register.js; the others open their own when armed.
  if (subject.noticeMode === 'cache-updated' && !(await waitUntil(() => feed.streams() >= 1, 20_000)))
    throw new HarnessError(`${subject.name}: register.js did not connect to ${CHANGES_STREAM} within 20 s`);

  // 2. One round trip.
  const roundTripUrls = Array.from({ length: roundTripGets }, (_, i) => `${GET_WORKLOAD.unmatchedPrefix}${i}`);
  const roundTrip = summarizePhase(await timedGets(page, server, subject.name, roundTripUrls, roundTripGets, newPhase()));
  const clock = await pageClock(page);

  // 3. The notice.
  const version = feed.change(changed.resource, changed.id);
  const expected = feed.body(itemPath);
  await withTimeout(
    page.evaluate((args) => window.bench.watchNotice(args), { url: itemPath, expected, mode: subject.noticeMode, stream: CHANGES_STREAM, timeoutMs: freshTimeoutMs }),
    20_000,
    `${subject.name}: arming the page for the notice`,
  );
  const streamsAtPublish = feed.streams();
  const noticeFrom = feed.gets.length;
  const catchUpsFrom = feed.catchUps.length;
  const notice = { resource: changed.resource, id: changed.id, type: 'updated', version, cursor: `c${version}` };
  const { publishedAt } = feed.publish(notice);
  const outcome = await withTimeout(
    page.evaluate(() => window.bench.noticeOutcome()),
    freshTimeoutMs + 10_000,
    `${subject.name}: waiting for a fresh read after the notice`,
  );

  // 4. What the notice caused.
  await sleep(settleMs);
  const afterNotice = feed.gets.slice(noticeFrom);
  const catchUps = feed.catchUps.slice(catchUpsFrom);
  const after = worker ? await digests() : null;

  // 5. The next pass over the 1,000.
  const passFrom = feed.gets.length;
  const passBodies = currentBodies();
  const pass = await withTimeout(
    page.evaluate((args) => window.bench.fetchAll(args), { urls: paths, expected: passBodies, inflight }),
    120_000,
    `${subject.name}: next pass, ${paths.length} GETs`,
  );
  const passGets = feed.gets.slice(passFrom);
  const cachedAfterPass = worker
    ? await withTimeout(
        page.evaluate((args) => window.bench.waitForCached(...args), [CATALOG_PREFIX, paths.length, 10_000]),
        20_000,
        `${subject.name}: waiting for the cache`,
      )
    : null;

  // Times: the server's clock (performance.now() here); the page's stamps are mapped onto it.
  const onServer = (pageEpoch) => (pageEpoch === null ? null : pageEpoch - clock.offsetMs - performance.timeOrigin);
  const sincePublish = (pageEpoch) => (pageEpoch === null ? null : round(onServer(pageEpoch) - publishedAt));
  const itemRequest = afterNotice.find((g) => g.path === itemPath);
  const named = afterNotice.filter((g) => affected.has(g.path));
  const unrelated = afterNotice.filter((g) => !affected.has(g.path));
  const namedDistinct = new Set(named.map((g) => g.path));

  const fetchedCheck = (label, got) =>
    check(
      `${label}: 200 with the expected body`,
      got.statuses[200] === got.count && got.wrongBodies === 0,
      `${got.statuses[200] ?? 0}/${got.count}${got.wrongBodies ? `, ${got.wrongBodies} wrong bodies (${got.wrongExamples.join(', ')})` : ''}${Object.keys(got.errors).length ? `, rejected: ${JSON.stringify(got.errors)}` : ''}`,
    );
  const checks = [fetchedCheck('warm-up GETs', warm), check('warm-up GETs reached the server', warmAtServer === paths.length, `${warmAtServer}/${paths.length}`)];
  if (worker)
    checks.push(
      check(
        'entries in Cache Storage before the notice, bodies as served',
        cachedBefore === paths.length && Object.keys(before).length === paths.length && storedAsServed === paths.length,
        `${cachedBefore}/${paths.length} cached, ${storedAsServed} as served`,
      ),
    );
  checks.push(
    check(
      'round-trip GETs: 200 with the expected body, each at the server',
      roundTrip.ok === roundTripGets && roundTrip.wrongBodies === 0 && roundTrip.atServer.unmatched === roundTripGets,
      `${roundTrip.ok}/${roundTripGets}, ${roundTrip.atServer.unmatched} at the server`,
    ),
    check(
      'the notice reached the page (one feed connection)',
      streamsAtPublish === 1 && outcome.messages.length === 1,
      `${outcome.messages.length} message(s), ${streamsAtPublish} connection(s)`,
    ),
    check('a read of the item returned the new body', outcome.freshAt !== null && outcome.error === null, outcome.error ?? `after ${outcome.reads.length} read(s)`),
  );
  if (subject.noticeMode === 'cache-updated') {
    const afterCount = Object.keys(after).length;
    const namedMatch = [...affected].filter((path) => after[path] === sha256(feed.body(path))).length;
    const others = paths.filter((path) => !affected.has(path));
    const identical = others.filter((path) => after[path] === before[path]).length;
    checks.push(
      check('cache-updated named the item', outcome.heardAt !== null, outcome.heardAt === null ? 'never' : `${outcome.updates.length} message(s)`),
      check('after the notice: entries still cached', afterCount === paths.length, `${afterCount}/${paths.length}`),
      check(
        "after the notice: the item's cached body is the new one",
        after[itemPath] === sha256(expected),
        after[itemPath] === sha256(expected) ? 'new' : after[itemPath] === before[itemPath] ? 'old' : 'neither',
      ),
      check('after the notice: entries it names match the server', namedMatch === affected.size, `${namedMatch}/${affected.size}`),
      check('after the notice: unrelated entries byte-identical', identical === others.length, `${identical}/${others.length}`),
      check(
        'each named entry refetched once, conditionally',
        namedDistinct.size === affected.size && named.length === affected.size && named.every((g) => g.conditional),
        `${namedDistinct.size}/${affected.size} refetched, ${named.length - namedDistinct.size} repeats, ${named.filter((g) => g.conditional).length} conditional`,
      ),
    );
  } else if (subject.noticeMode === 'purge') {
    const afterCount = Object.keys(after).length;
    checks.push(
      check(
        'the purge emptied the cache (then the item was read back)',
        (outcome.purged?.length ?? 0) > 0 && afterCount <= 1,
        `deleted ${JSON.stringify(outcome.purged)}; ${afterCount} entr${afterCount === 1 ? 'y' : 'ies'} after`,
      ),
      check('next pass: every entry cached again', cachedAfterPass === paths.length, `${cachedAfterPass}/${paths.length}`),
    );
  }
  checks.push(fetchedCheck('next pass: GETs', pass));

  return {
    entries: paths.length,
    affected: affected.size,
    // Requests the notice caused at the server, from publishing to `settleMs` after the fresh read.
    requestsAfterNotice: afterNotice.length,
    unrelatedAfterNotice: unrelated.length,
    namedRefetched: namedDistinct.size,
    notModifiedAfterNotice: afterNotice.filter((g) => g.status === 304).length,
    catchUpsAfterNotice: catchUps.length,
    // Feed connections opened in the whole trial (1 unless the feed reconnected).
    feedConnectionsOpened: feed.streamsOpened(),
    // The next pass over the 1,000: what it cost to be warm again.
    passRequests: passGets.length,
    passNotModified: passGets.filter((g) => g.status === 304).length,
    passElapsedMs: round(pass.elapsedMs),
    requestsUntilWarm: afterNotice.length + passGets.length,
    cachedBefore,
    entriesAfterNotice: after ? Object.keys(after).length : null,
    cachedAfterPass,
    // Time-to-fresh and its parts (ms); see bench/README.md.
    timeToFreshMs: sincePublish(outcome.freshAt),
    deliveryMs: sincePublish(outcome.deliveredAt),
    freshAfterDeliveryMs: outcome.freshAt === null || outcome.deliveredAt === null ? null : round(outcome.freshAt - outcome.deliveredAt),
    itemRequestedMs: itemRequest ? round(itemRequest.arrivedAt - publishedAt) : null,
    lastNamedRequestedMs: named.length ? round(Math.max(...named.map((g) => g.arrivedAt)) - publishedAt) : null,
    heardMs: sincePublish(outcome.heardAt),
    purgedMs: sincePublish(outcome.purgedAt),
    roundTripMs: roundTrip.medianMs,
    roundTrip: { medianMs: roundTrip.medianMs, p95Ms: roundTrip.p95Ms, times: roundTrip.times },
    clock,
    notice,
    raw: {
      // [path, arrived ms after publishing, status, conditional]
      afterNotice: afterNotice.map((g) => [g.path, round(g.arrivedAt - publishedAt), g.status, g.conditional]),
      catchUps: catchUps.map((c) => [c.path, round(c.arrivedAt - publishedAt)]),
      reads: outcome.reads.map((r) => ({ startedMs: sincePublish(r.startedAt), atMs: sincePublish(r.at), status: r.status, fresh: r.fresh })),
      updates: outcome.updates.map((u) => ({ atMs: sincePublish(u.at), urls: u.urls.map((url) => new URL(url).pathname + new URL(url).search) })),
      purged: outcome.purged,
      warmElapsedMs: round(warm.elapsedMs),
    },
    checks,
    console: trial.consoleLog,
  };
}

/**
 * Case "notice": 1,000 cached entries, one item changed on the server and
 * one `updated` notice about it; what the server is asked afterwards, and
 * how soon the page reads the new item.
 */
export async function runNotice(subject) {
  const trial = await openTrial(subject, { manifest: NOTICE_MANIFEST, catalog: NOTICE_WORKLOAD.catalog });
  try {
    return await noticeSteps(trial, subject, { worker: true });
  } finally {
    await trial.close();
  }
}

/**
 * Calibration for "notice" (no subject): no worker, no cache; on the notice
 * the page reads the item from the network. Its time-to-fresh is the floor:
 * the notice's delivery and one round trip.
 */
export async function runNoWorkerNotice() {
  const trial = await openTrial(CALIBRATION.noWorker, { controlled: false, catalog: NOTICE_WORKLOAD.catalog });
  try {
    return await noticeSteps(trial, CALIBRATION.noWorker, { worker: false });
  } finally {
    await trial.close();
  }
}

/**
 * Calibration for "enqueue" (no subject): the same page loop with no worker
 * at all, offline, so every fetch fails at once. What the page loop and the
 * browser's network stack cost by themselves, on this machine, now.
 */
export async function runNoWorkerEnqueue() {
  const trial = await openTrial(CALIBRATION.noWorker, { controlled: false });
  try {
    const { sent } = await queueOffline(trial, CALIBRATION.noWorker, WORKLOAD.writes);
    return {
      elapsedMs: sent.elapsedMs,
      writesPerSec: (WORKLOAD.writes / sent.elapsedMs) * 1000,
      sent,
      checks: [check('every fetch failed offline', sent.rejected === WORKLOAD.writes, `${sent.rejected}/${WORKLOAD.writes}`)],
      console: trial.consoleLog,
    };
  } finally {
    await trial.close();
  }
}

/**
 * Calibration for "replay" (no subject): an ideal replayer (lib/ideal-sw.js,
 * 6 lanes from memory, no storage), measured on the server like the replay
 * case, from the moment the page tells it to start.
 */
export async function runIdealReplay() {
  const trial = await openTrial(CALIBRATION.idealReplayer);
  try {
    const startedAt = performance.now();
    const start = trial.page.evaluate((args) => navigator.serviceWorker.controller.postMessage(args), {
      writes: WORKLOAD.writes,
      resources: WORKLOAD.resources,
      lanes: WORKLOAD.connectionsPerHost,
    });
    await withTimeout(start, 10_000, 'starting the ideal replayer');
    if (!(await trial.server.waitForAnswered(WORKLOAD.writes, 60_000)))
      throw new HarnessError(`the ideal replayer delivered ${trial.server.answeredCount()}/${WORKLOAD.writes} writes in 60 s`);
    const analysis = analyzeDeliveries(trial.server.deliveries, startedAt);
    return {
      timeToAllMs: analysis.allAnsweredMs,
      maxInFlightAtServer: trial.server.maxInFlight(),
      meanInFlightAtServer: analysis.meanInFlightAtServer,
      checks: [
        check(
          'in order, each write once',
          analysis.orderViolations === 0 && analysis.duplicates === 0 && analysis.distinct === WORKLOAD.writes,
          `${analysis.distinct}/${WORKLOAD.writes}, ${analysis.orderViolations} out of order, ${analysis.duplicates} twice`,
        ),
      ],
      console: trial.consoleLog,
    };
  } finally {
    await trial.close();
  }
}

/**
 * Order, duplicates and keys of what the server received, in arrival order.
 * Times are ms after the harness switched the browser back online.
 */
export function analyzeDeliveries(deliveries, onlineAt) {
  const lastSeq = new Map();
  const firstAnswer = new Map();
  const firstArrival = new Map();
  const keyUses = new Map();
  const pairKeys = new Map();
  let orderViolations = 0;
  let bodyErrors = 0;
  let missing = 0;
  for (const d of deliveries) {
    if (d.seq === null) {
      bodyErrors++;
      continue;
    }
    const previous = lastSeq.get(d.resource);
    if (previous !== undefined && d.seq <= previous) orderViolations++;
    lastSeq.set(d.resource, Math.max(previous ?? -1, d.seq));
    const pair = `${d.resource}:${d.seq}`;
    if (!firstArrival.has(pair)) firstArrival.set(pair, d.arrivedAt - onlineAt);
    if (Number.isFinite(d.answeredAt) && !firstAnswer.has(pair)) firstAnswer.set(pair, d.answeredAt - onlineAt);
    if (d.key === null) missing++;
    else {
      const use = keyUses.get(d.key) ?? { count: 0, pairs: new Set() };
      use.count++;
      use.pairs.add(pair);
      keyUses.set(d.key, use);
      const keys = pairKeys.get(pair) ?? new Set();
      keys.add(d.key);
      pairKeys.set(pair, keys);
    }
  }
  const answerTimes = [...firstAnswer.values()].sort((a, b) => a - b);
  // Mean writes at once at the server between the first arrival and the last
  // answer: 6 would mean every connection busy all the time.
  const answeredDeliveries = deliveries.filter((d) => Number.isFinite(d.answeredAt));
  const span = answeredDeliveries.length ? Math.max(...answeredDeliveries.map((d) => d.answeredAt)) - Math.min(...answeredDeliveries.map((d) => d.arrivedAt)) : 0;
  const busy = answeredDeliveries.reduce((sum, d) => sum + (d.answeredAt - d.arrivedAt), 0);
  const at = (fraction) => round(answerTimes[Math.max(0, Math.ceil(answerTimes.length * fraction) - 1)] ?? Number.NaN);
  return {
    deliveries: deliveries.length,
    distinct: firstArrival.size,
    duplicates: deliveries.length - bodyErrors - firstArrival.size,
    orderViolations,
    bodyErrors,
    firstArrivalMs: deliveries.length ? round(Math.min(...deliveries.map((d) => d.arrivedAt)) - onlineAt) : null,
    lastArrivalMs: firstArrival.size ? round(Math.max(...firstArrival.values())) : null,
    allAnsweredMs: answerTimes.length ? round(answerTimes[answerTimes.length - 1]) : null,
    meanInFlightAtServer: span > 0 ? Math.round((busy / span) * 100) / 100 : null,
    answeredAtQuantilesMs: { p25: at(0.25), p50: at(0.5), p75: at(0.75), p100: at(1) },
    keys: {
      distinct: keyUses.size,
      missing,
      deliveredMoreThanOnce: [...keyUses.values()].filter((u) => u.count > 1).length,
      sharedByWrites: [...keyUses.values()].filter((u) => u.pairs.size > 1).length,
      writesWithSeveralKeys: [...pairKeys.values()].filter((k) => k.size > 1).length,
    },
    // Raw: [resource, seq, arrived ms, answered ms] per delivery, in arrival order.
    raw: deliveries.map((d) => [d.resource, d.seq, round(d.arrivedAt - onlineAt), round(d.answeredAt - onlineAt)]),
  };
}

/** Wall-clock ms on the same clock as the server's performance.now() stamps. */
export const epochNow = () => performance.timeOrigin + performance.now();

/** Background Sync events with `atMs` relative to `originEpochMs` (negative: before it). */
export function relativeTo(events, originEpochMs) {
  return events.map((e) => ({ atMs: round(e.epochMs - originEpochMs), ...e }));
}

export const round = (ms) => (Number.isFinite(ms) ? Math.round(ms * 10) / 10 : null);

/**
 * Calibration for "enqueue" (no subject): the ideal worker (lib/ideal-sw.js)
 * answers each write 202 at once and stores nothing. The enqueue loop's
 * pace with a worker that does no work of its own: the yardstick.
 */
export const runIdealEnqueue = () => runEnqueue(CALIBRATION.idealWorker);
