/**
 * The cases that ask how the outbox behaves as it fills up, and what a
 * stopped worker costs (bench/README.md, "The cases"): `overlay` (a GET of a
 * collection with 1,000 writes waiting, against 10), `coldstart` (a cached
 * GET right after the worker was stopped), `heap` (the worker's heap with
 * 10,000 queued 1 KB writes) and `growth` (10,000 writes over 1,000
 * resources: enqueue rate, status() and replay time per write). One trial =
 * one subject, one case, one run, as in cases.mjs.
 */
import { performance } from 'node:perf_hooks';
import { analyzeDeliveries, check, DUPLICATE_GRACE_MS, ISOLATED_PAGE_HEADERS, openTrial, round, SEND_TIMEOUT_MS, WORKLOAD } from './cases.mjs';
import { stopServiceWorkers, workerHeapBytes } from './devtools.mjs';
import { itemBody } from './server.mjs';
import { OVERLAY_MANIFEST } from './subjects.mjs';
import { HarnessError, median, sleep, withTimeout } from './util.mjs';

/** The `overlay` case. */
export const OVERLAY_WORKLOAD = {
  /** One declared resource, `items`, 100 items; its collection is one page of 100. */
  catalog: { resources: ['items'], items: 100, pageSize: 100 },
  url: '/api/items?page=0',
  /** PATCHes queued before each measurement: first `few`, then up to `many`, over `resources` items. */
  few: 10,
  many: 1000,
  resources: 100,
  /** Sequential GETs of the collection timed at each level. */
  gets: 50,
};

/** The `coldstart` case. */
export const COLDSTART_WORKLOAD = {
  url: '/api/items/0',
  /** Cold GETs per trial, each after stopping the worker; and warm GETs (worker running) beside them. */
  cold: 10,
  warm: 10,
};

/** The `heap` case. */
export const HEAP_WORKLOAD = {
  /** Writes before the first reading (every code path has run once). */
  warmup: 20,
  writes: 10_000,
  resources: 1000,
  bodyBytes: 1024,
};

/** The `growth` case. */
export const GROWTH_WORKLOAD = {
  /** status() is timed first with `few` queued, then with `few + writes`. */
  few: 10,
  writes: 10_000,
  resources: 1000,
  statusCalls: 20,
};

const isOurs = (subject) => subject.name === 'offline-outbox';

/**
 * Sends writes from the page while offline (the trial must be offline) and
 * checks that none reached the server. `args`: sendWrites's (page.js).
 */
async function sendOffline(trial, subject, args) {
  const before = trial.server.deliveries.length;
  const sent = await withTimeout(
    trial.page.evaluate((a) => window.bench.sendWrites(a), { inflight: WORKLOAD.inflight, timeoutMs: SEND_TIMEOUT_MS * 2, ...args }),
    SEND_TIMEOUT_MS * 2 + 10_000,
    `${subject.name}: sending ${args.total} writes offline`,
  );
  const leaked = trial.server.deliveries.length - before;
  if (leaked > 0) throw new HarnessError(`${subject.name}: the server received ${leaked} writes while offline`);
  return sent;
}

const goOffline = (trial) => withTimeout(trial.context.setOffline(true), 10_000, 'context.setOffline(true)');

/** Queued writes as the subject counts them, for a sum of sendWrites results. */
async function countQueued(trial, subject, sents) {
  const sum = {
    accepted202WithId: sents.reduce((n, s) => n + s.accepted202WithId, 0),
    distinctQueuedIds: sents.reduce((n, s) => n + s.distinctQueuedIds, 0),
  };
  return withTimeout(subject.countQueued(trial.page, sum), 60_000, `${subject.name}: counting queued writes`);
}

const itemTitle = (body, id) => (Array.isArray(body) ? body.find((item) => item?.id === id)?.title : undefined);

/**
 * Case "overlay": a declared resource's collection (100 items) is cached;
 * offline, 10 PATCHes to its items are queued and the collection is read 50
 * times; then 990 more (1,000 in all, 10 per item) and 50 reads again. With
 * offline-outbox every read shows the writes (read-your-writes); Workbox
 * serves the cached page as it is.
 */
export async function runOverlay(subject) {
  const w = OVERLAY_WORKLOAD;
  const trial = await openTrial(subject, { manifest: OVERLAY_MANIFEST, catalog: w.catalog, pageHeaders: ISOLATED_PAGE_HEADERS });
  try {
    const { page } = trial;
    const warm = await withTimeout(
      page.evaluate((url) => window.bench.timeJsonGets({ url, count: 1 }), w.url),
      30_000,
      'warming the collection',
    );
    const cached = await withTimeout(
      page.evaluate(([p, n, t]) => window.bench.waitForCached(p, n, t), ['/api/items', 1, 10_000]),
      15_000,
      'waiting for the collection in Cache Storage',
    );
    await goOffline(trial);
    const sendItems = (start, total) => sendOffline(trial, subject, { start, total, resources: w.resources, kind: 'items' });
    const time = () =>
      withTimeout(
        page.evaluate((args) => window.bench.timeJsonGets(args), { url: w.url, count: w.gets }),
        60_000,
        'timing the collection GETs',
      );
    const first = await sendItems(0, w.few);
    const few = await time();
    const second = await sendItems(w.few, w.many - w.few);
    const many = await time();
    const queued = await countQueued(trial, subject, [first, second]);
    const checks = [
      check('collection cached before going offline', warm.statuses[200] === 1 && cached >= 1, `${JSON.stringify(warm.statuses)}, ${cached} cached`),
      check(`writes queued (${subject.queuedShort})`, queued === w.many, `${queued}/${w.many}`),
      check(
        'every collection GET answered 200',
        few.statuses[200] === w.gets && many.statuses[200] === w.gets,
        `${JSON.stringify(few.statuses)} then ${JSON.stringify(many.statuses)}`,
      ),
    ];
    if (isOurs(subject)) {
      // Item 0 got write 0 ("edit 0") first, and write 900 ("edit 9") last.
      checks.push(
        check(
          'every GET shows the writes waiting (X-Outbox-Pending, item 0 title)',
          few.pending[String(w.few)] === w.gets && many.pending[String(w.many)] === w.gets && itemTitle(few.body, '0') === 'edit 0' && itemTitle(many.body, '0') === 'edit 9',
          `${JSON.stringify(few.pending)} "${itemTitle(few.body, '0')}" then ${JSON.stringify(many.pending)} "${itemTitle(many.body, '0')}"`,
        ),
      );
    }
    const fewMs = median(few.times);
    const manyMs = median(many.times);
    return { fewMs, manyMs, ratio: manyMs / fewMs, fewTimes: few.times.map(round3), manyTimes: many.times.map(round3), queued, checks, console: trial.consoleLog };
  } finally {
    await trial.close();
  }
}

const round3 = (ms) => Math.round(ms * 1000) / 1000;

/**
 * Case "coldstart": an item is cached; then 10 times: the worker is stopped
 * (DevTools, as Chromium stops an idle worker) and the page GETs the item,
 * which starts the worker and is served from its cache. Warm GETs (worker
 * running) are timed beside them.
 */
export async function runColdStart(subject) {
  const w = COLDSTART_WORKLOAD;
  const trial = await openTrial(subject, { pageHeaders: ISOLATED_PAGE_HEADERS });
  try {
    const { page, server } = trial;
    const expected = itemBody('0');
    const first = await withTimeout(
      page.evaluate((url) => window.bench.timeOneGet(url), w.url),
      30_000,
      'warming the item',
    );
    const cached = await withTimeout(
      page.evaluate(([p, n, t]) => window.bench.waitForCached(p, n, t), ['/api/items/', 1, 10_000]),
      15_000,
      'waiting for the item in Cache Storage',
    );
    const fromServer = server.getCount('/api/items/');
    const cold = [];
    const warm = [];
    let wrong = 0;
    for (let i = 0; i < w.cold; i++) {
      await stopServiceWorkers(page, { timeoutMs: 15_000 });
      const got = await withTimeout(
        page.evaluate((url) => window.bench.timeOneGet(url), w.url),
        30_000,
        'the cold GET',
      );
      cold.push(got.ms);
      if (got.status !== 200 || got.text !== expected) wrong++;
      const again = await withTimeout(
        page.evaluate((url) => window.bench.timeOneGet(url), w.url),
        30_000,
        'the warm GET',
      );
      warm.push(again.ms);
      if (again.status !== 200 || again.text !== expected) wrong++;
    }
    const checks = [
      check('item cached by the warm-up', first.status === 200 && cached >= 1 && fromServer === 1, `${first.status}, ${cached} cached, ${fromServer} GET at the server`),
      check('every GET answered 200 with the item', wrong === 0, `${wrong} wrong`),
      check(
        'cold and warm GETs served from the cache (none reached the server)',
        server.getCount('/api/items/') === fromServer,
        `${server.getCount('/api/items/') - fromServer} reached it`,
      ),
    ];
    return { coldMs: median(cold), warmMs: median(warm), cold: cold.map(round3), warm: warm.map(round3), checks, console: trial.consoleLog };
  } finally {
    await trial.close();
  }
}

/**
 * Case "heap": offline, 20 writes of 1 KB, then the worker's memory after a
 * full GC (its JS heap, Blink's objects and array buffers' contents); then
 * 10,000 more over 1,000 resources, and the memory again. The
 * difference per queued write says whether the queue lives in IndexedDB or
 * in the worker's memory.
 */
export async function runHeap(subject) {
  const w = HEAP_WORKLOAD;
  const trial = await openTrial(subject);
  try {
    await goOffline(trial);
    const args = { resources: w.resources, bodyBytes: w.bodyBytes };
    const warm = await sendOffline(trial, subject, { ...args, start: 0, total: w.warmup });
    const before = await workerHeapBytes(trial.page, { timeoutMs: 30_000 });
    const sent = await sendOffline(trial, subject, { ...args, start: w.warmup, total: w.writes });
    // Let the last commits' bookkeeping settle before reading.
    await sleep(500);
    const after = await workerHeapBytes(trial.page, { timeoutMs: 30_000 });
    const queued = await countQueued(trial, subject, [warm, sent]);
    // The JS heap, Blink's objects and array buffers' contents (a body held in memory is one).
    const total = (h) => h.usedBytes + h.embedderBytes + h.backingStoreBytes;
    const perWriteKB = (total(after) - total(before)) / w.writes / 1024;
    return {
      beforeBytes: total(before),
      afterBytes: total(after),
      heap: { before, after },
      perWriteKB,
      writesPerSec: (w.writes / sent.elapsedMs) * 1000,
      queued,
      checks: [check(`writes queued (${subject.queuedShort})`, queued === w.warmup + w.writes, `${queued}/${w.warmup + w.writes}`)],
      console: trial.consoleLog,
    };
  } finally {
    await trial.close();
  }
}

/**
 * Case "growth": offline, 10 writes, status() timed 20 times; 10,000 more
 * over 1,000 resources (the enqueue rate), status() again; then online, and
 * the time until the server answered all 10,010 (offline-outbox only:
 * Workbox, one write at a time, would take minutes per run; its enqueue rate
 * is measured beside).
 */
export async function runGrowth(subject, capMs) {
  const w = GROWTH_WORKLOAD;
  const trial = await openTrial(subject);
  try {
    const { page, server, context } = trial;
    const ours = isOurs(subject);
    const timeStatus = () =>
      withTimeout(
        page.evaluate((n) => window.bench.timeStatus(n), w.statusCalls),
        60_000,
        'timing status()',
      );
    await goOffline(trial);
    const first = await sendOffline(trial, subject, { start: 0, total: w.few, resources: w.resources });
    const statusFew = ours ? await timeStatus() : null;
    const sent = await sendOffline(trial, subject, { start: w.few, total: w.writes, resources: w.resources });
    const statusMany = ours ? await timeStatus() : null;
    const queued = await countQueued(trial, subject, [first, sent]);
    const total = w.few + w.writes;
    const checks = [check(`writes queued (${subject.queuedShort})`, queued === total, `${queued}/${total}`)];
    const result = {
      writesPerSec: (w.writes / sent.elapsedMs) * 1000,
      latencyP50Ms: sent.latency.p50,
      statusFewMs: statusFew && median(statusFew.times),
      statusManyMs: statusMany && median(statusMany.times),
      statusFewTimes: statusFew?.times.map(round3),
      statusManyTimes: statusMany?.times.map(round3),
      queued,
      checks,
      console: trial.consoleLog,
    };
    if (ours)
      checks.push(
        check(
          'status() counts what is queued',
          statusFew.last.pending === w.few && statusMany.last.pending === total,
          `${statusFew.last.pending}/${w.few}, then ${statusMany.last.pending}/${total}`,
        ),
      );
    if (!ours) return result;

    const from = server.deliveries.length;
    const onlineAt = performance.now();
    await withTimeout(context.setOffline(false), 10_000, 'context.setOffline(false)');
    await withTimeout(subject.afterOnline(page), 10_000, `${subject.name}: the page's step after going online`);
    const complete = await server.waitForAnswered(total, Math.max(0, capMs - (performance.now() - onlineAt)));
    const stoppedAt = performance.now();
    if (complete) await sleep(DUPLICATE_GRACE_MS);
    const analysis = analyzeDeliveries(server.deliveries.slice(from), onlineAt);
    checks.push(
      check('replay complete within the cap', complete, `${analysis.distinct}/${total}`),
      check('per-resource order: writes out of order', analysis.orderViolations === 0, String(analysis.orderViolations)),
      check('writes delivered more than once', analysis.duplicates === 0, String(analysis.duplicates)),
    );
    const timeToAllMs = complete ? analysis.allAnsweredMs : round(stoppedAt - onlineAt);
    return { ...result, complete, timeToAllMs, replayMsPerWrite: timeToAllMs / total, delivered: analysis.distinct, maxInFlightAtServer: server.maxInFlight() };
  } finally {
    await trial.close();
  }
}
