/**
 * One trial = one subject, one case, one run: a new server, a new browser
 * with a fresh profile, the page loaded and controlled by the subject's
 * worker, then the case's steps. Trials share nothing.
 */
import { performance } from 'node:perf_hooks';
import { launchBrowser } from './browser.mjs';
import { startBenchServer } from './server.mjs';
import { CALIBRATION, pageHtml } from './subjects.mjs';
import { HarnessError, NotReadyError, sleep, withTimeout } from './util.mjs';

/** The workload (bench/README.md, "The cases"). */
export const WORKLOAD = {
  writes: 1000,
  resources: 100,
  inflight: 50,
  writeDelayMs: 20,
  /** Chromium's connections per host (HTTP/1.1): the replay's ceiling. */
  connectionsPerHost: 6,
};

const SEND_TIMEOUT_MS = 120_000;
/** After every write has been answered, how long to keep listening for duplicates. */
const DUPLICATE_GRACE_MS = 1_000;

/**
 * @param {import('./subjects.mjs').Subject} subject
 */
async function openTrial(subject, { controlled = true } = {}) {
  const files = await subject.files();
  const server = await startBenchServer({ page: await pageHtml(subject.registerTag), files, writeDelayMs: WORKLOAD.writeDelayMs });
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
      const script = await withTimeout(page.evaluate((ms) => window.bench.waitForController(ms), 30_000), 35_000, `${subject.name}: waiting for the worker to control the page`);
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

function check(name, ok, detail) {
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
    const syncNowOutcome = await withTimeout(trial.page.evaluate(() => window.bench.syncNowOutcome ?? null), 10_000, 'reading the outcome of syncNow()').catch(() => null);

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
const epochNow = () => performance.timeOrigin + performance.now();

/** Background Sync events with `atMs` relative to `originEpochMs` (negative: before it). */
function relativeTo(events, originEpochMs) {
  return events.map((e) => ({ atMs: round(e.epochMs - originEpochMs), ...e }));
}

const round = (ms) => (Number.isFinite(ms) ? Math.round(ms * 10) / 10 : null);
