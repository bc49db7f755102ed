/**
 * One chaos run: one subject (offline-outbox or plain Workbox), one server
 * mode (honouring Idempotency-Key or ignoring it), one engine, a fresh
 * browser and a fresh server. See bench/chaos/README.md.
 *
 * The browser comes from the caller as a `launch()` returning a session of
 * test/support/browsers (chromium via playwright-core, firefox via
 * puppeteer-core/BiDi, webkit via WebKitWebDriver): the CI test passes the
 * engines it imports; `npm run chaos` (run.mjs) loads the same TypeScript
 * module through Vite's module runner.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SUBJECTS } from '../lib/subjects.mjs';
import { HarnessError, sleep, withTimeout } from '../lib/util.mjs';
import { makeSchedule } from './random.mjs';
import { startChaosServer } from './server.mjs';

/** offline-outbox's manifest here: the page and register.js open offline, the writes are queued (one group per item). */
export const CHAOS_MANIFEST = {
  version: 1,
  routes: [
    { match: '/', cache: { strategy: 'network-first' } },
    { match: '/register.js', cache: { strategy: 'network-first' } },
    { match: '/api/r/:id', methods: ['POST'], queue: {} },
  ],
};

export const DEFAULTS = {
  writes: 1000,
  /** Ordered ops per item: items = writes / ops. */
  ops: 10,
  inflight: 20,
  failRate: 0.2,
  latencyMs: [5, 30],
  flapMinMs: 1500,
  flapMaxMs: 4000,
  kills: 5,
  reloads: 3,
  /** How long the page waits before retrying a write it was told failed. */
  retryMs: 1000,
  /** The page gives up on a fetch after this long (counted as a failure, retried). */
  fetchTimeoutMs: 20_000,
  /** After the chaos: online for good until drained, or this long. */
  drainCapMs: 180_000,
};

/** The chaos lasts writes × 60 ms (1,000 writes: 60 s), at least 12 s; the page issues its first attempts over 75 % of it. */
export const chaosDurationMs = (writes) => Math.max(12_000, writes * 60);

// Read now, with the rest of the harness: a run uses the page code of the moment it started.
const PAGE_CODE = readFileSync(fileURLToPath(new URL('./page.js', import.meta.url)), 'utf8');

function pageHtml(registerTag) {
  return `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>offline-outbox chaos</title>
<h1>chaos page</h1>
<script>
${PAGE_CODE}
</script>
${registerTag}
</html>
`;
}

const errorText = (error) => (error instanceof Error ? error.message : String(error));

/**
 * @param {{
 *   launch: () => Promise<import('./harness.d.mts').ChaosSession>,
 *   engine: string,
 *   subject: 'offline-outbox' | 'workbox',
 *   idempotent: boolean,
 *   seed: string,
 *   writes?: number,
 *   durationMs?: number,
 *   stallMs?: number,
 *   drainCapMs?: number,
 *   log?: (line: string) => void,
 * }} options
 */
export async function runChaos(options) {
  const o = { ...DEFAULTS, ...options };
  const { engine, subject, idempotent, seed, writes, ops } = o;
  if (!SUBJECTS[subject]) throw new HarnessError(`unknown subject ${subject}`);
  if (writes % ops !== 0) throw new HarnessError(`writes (${writes}) must be a multiple of ops per item (${ops})`);
  const items = writes / ops;
  const durationMs = o.durationMs ?? chaosDurationMs(writes);
  const mode = idempotent ? 'idempotent' : 'non-idempotent';
  const label = `${engine} ${subject} ${mode}`;
  const say = (line) => o.log?.(`[${label}] ${line}`);
  const canKill = engine === 'chromium';
  const schedule = makeSchedule({ seed, durationMs, kills: canKill ? o.kills : 0, reloads: o.reloads, flapMinMs: o.flapMinMs, flapMaxMs: o.flapMaxMs });
  // Workbox has no retry timer of its own: once it sits still with writes left, nothing in the
  // run makes it replay again (Chromium retries a failed sync only minutes later).
  const stallMs = o.stallMs ?? (subject === 'workbox' ? 20_000 : Infinity);

  const def = SUBJECTS[subject];
  const files = await def.files({ manifest: CHAOS_MANIFEST });
  const server = await startChaosServer({ seed, idempotent, page: pageHtml(def.registerTag), files, failRate: o.failRate, latencyMs: o.latencyMs });
  const timeline = [];
  const note = (type, detail) => timeline.push({ at: Date.now(), type, ...(detail === undefined ? {} : { detail }) });
  let session;
  let page;
  try {
    session = await withTimeout(o.launch(), 90_000, `${engine}: launching`);
    const version = session.version;
    // Off unless asked: Playwright's offline emulation of service workers does not
    // survive a worker restart (README, "One run", Offline), so with kills it makes hangs no
    // real network makes.
    const useSetOffline = o.setOffline === true && typeof session.setOffline === 'function';
    page = await withTimeout(session.newPage(), 30_000, `${engine}: opening a page`);
    await withTimeout(page.goto(`${server.origin}/`), 30_000, `${label}: loading the page`);
    let controlled = await withTimeout(
      page.evaluate((ms) => window.chaos.waitForController(ms), 20_000),
      30_000,
      `${label}: waiting for the worker`,
    );
    if (!controlled) {
      // Some engines control only the next navigation: reload once.
      await withTimeout(page.reload(), 30_000, `${label}: reloading to be controlled`);
      controlled = await withTimeout(
        page.evaluate((ms) => window.chaos.waitForController(ms), 20_000),
        30_000,
        `${label}: waiting for the worker`,
      );
    }
    if (!controlled) throw new HarnessError(`${label}: no service worker controls the page`);
    // One load through the worker while online, so that its routes store the page
    // (and register.js) and a reload offline can open it, as for a returning user.
    await withTimeout(page.reload(), 30_000, `${label}: reloading through the worker`);
    controlled = await withTimeout(
      page.evaluate((ms) => window.chaos.waitForController(ms), 20_000),
      30_000,
      `${label}: waiting for the worker`,
    );
    if (!controlled) throw new HarnessError(`${label}: the reloaded page is not controlled`);
    const script = await page.evaluate(() => navigator.serviceWorker.controller.scriptURL);
    if (!def.workerPath.test(new URL(script).pathname)) throw new HarnessError(`${label}: the page is controlled by ${script}, not ${subject}'s worker`);
    if (subject === 'offline-outbox') {
      await withTimeout(
        page.evaluate(async () => {
          await window.offlineOutbox.registration;
          return true;
        }),
        30_000,
        `${label}: waiting for register.js`,
      );
    }

    // Writes start now: the schedule's time 0.
    const config = { items, ops, inflight: o.inflight, intervalMs: (durationMs * 0.75) / writes, retryMs: o.retryMs, timeoutMs: o.fetchTimeoutMs };
    const startedAt = Date.now();
    await page.evaluate((c) => window.chaos.start(c), config);
    note('start', config);
    say(`started: ${writes} writes (${items} items × ${ops}), ${schedule.length} events over ${(durationMs / 1000).toFixed(0)} s`);

    let online = true;
    const setNetwork = async (on) => {
      if (on) {
        await server.plug();
        if (useSetOffline) await withTimeout(session.setOffline(false), 10_000, 'setOffline(false)');
      } else {
        if (useSetOffline) await withTimeout(session.setOffline(true), 10_000, 'setOffline(true)');
        await server.unplug();
      }
      online = on;
    };
    const progress = [];
    const readProgress = async () => {
      try {
        const p = await withTimeout(
          page.evaluate(() => window.chaos.progress()),
          10_000,
          'progress',
        );
        progress.push({ at: Date.now(), ...p });
        return p;
      } catch (error) {
        return { error: errorText(error) };
      }
    };
    /**
     * After a reload the page must be our page again. When it is not (the
     * navigation failed: offline with nothing stored, or a worker killed under
     * it), it is opened again, `tries` times a second apart; the chaos goes on
     * meanwhile, and the page is tried again at the next online event.
     */
    let pageLoadFailures = 0;
    let pageUp = true;
    const ensurePage = async (tries) => {
      for (let i = 0; i < tries; i++) {
        const seen = await withTimeout(
          page.evaluate(() =>
            // biome-ignore lint/performance/useDomNodeTextContent: what the page shows, for the error message.
            typeof window.chaos === 'object' ? 'ok' : `${location.href}: ${document.title} ${(document.body?.innerText ?? '').replace(/\s+/g, ' ').slice(0, 160)}`,
          ),
          10_000,
          'page check',
        ).catch((error) => `error: ${errorText(error)}`);
        if (seen === 'ok') return (pageUp = true);
        pageLoadFailures++;
        note('page-missing', { seen, online });
        say(`the page is not there (${online ? 'online' : 'offline'}): ${seen}`);
        await sleep(1000);
        await withTimeout(page.goto(`${server.origin}/`), 30_000, 'goto').catch((error) => note('goto-failed', errorText(error)));
      }
      return (pageUp = false);
    };
    const pageGone = () => {
      const recent = server.log
        .slice(-12)
        .map((e) => `+${e.at - startedAt}ms ${e.method} ${e.path} → ${e.status}${e.answered ? '' : ' (unanswered)'}`)
        .join('; ');
      return new HarnessError(`${label}: the page did not open again, online, within 30 s (server plugged: ${server.plugged}; its last requests: ${recent})`);
    };

    // The chaos: events in order, one at a time; between them, a look at the page's progress.
    let lastPoll = 0;
    for (const event of schedule) {
      for (;;) {
        const wait = startedAt + event.at - Date.now();
        if (wait <= 0) break;
        if (Date.now() - lastPoll >= 2000 && wait > 200) {
          lastPoll = Date.now();
          await readProgress();
        } else await sleep(Math.min(wait, 250));
      }
      const late = Date.now() - (startedAt + event.at);
      try {
        if (event.type === 'offline') await setNetwork(false);
        else if (event.type === 'online') {
          await setNetwork(true);
          if (!pageUp) await ensurePage(3);
        } else if (event.type === 'kill') await withTimeout(session.stopServiceWorkers(), 15_000, 'stopping service workers');
        else if (event.type === 'reload') {
          await withTimeout(page.reload(), 30_000, 'reload').catch((error) => note('reload-failed', errorText(error)));
          await ensurePage(2);
        }
        note(event.type, { scheduledAt: event.at, lateMs: late });
      } catch (error) {
        note(`${event.type}-failed`, errorText(error));
      }
    }
    while (Date.now() < startedAt + durationMs) await sleep(100);

    // Online for good, until drained (the page has every write acknowledged and the queue is empty) or the cap.
    if (!online) await setNetwork(true);
    const finalOnlineAt = Date.now();
    if (!pageUp && !(await ensurePage(30))) throw pageGone();
    note('final-online');
    say(`online for good; draining (cap ${(o.drainCapMs / 1000).toFixed(0)} s${Number.isFinite(stallMs) ? `, stall ${(stallMs / 1000).toFixed(0)} s` : ''})`);
    let drainedAt = null;
    let stalled = false;
    let lastQueue = null;
    let lastChange = Date.now();
    let lastSignature = '';
    while (Date.now() < finalOnlineAt + o.drainCapMs) {
      const p = await readProgress();
      let queue;
      try {
        queue = await withTimeout(
          page.evaluate((subject) => window.chaos.queue(subject), subject),
          15_000,
          'queue',
        );
        lastQueue = queue;
      } catch (_error) {
        queue = null;
        if (p.error && !(await ensurePage(30))) throw pageGone();
      }
      const left = queue === null ? null : queue.kind === 'workbox' ? queue.requests : queue.pending + queue.inFlight;
      if (p.done && left === 0) {
        drainedAt = Date.now();
        break;
      }
      const signature = `${server.writeRequests()}|${JSON.stringify(queue)}|${p.acked}`;
      if (signature !== lastSignature) {
        lastSignature = signature;
        lastChange = Date.now();
      } else if (p.done && Date.now() - lastChange >= stallMs) {
        stalled = true;
        break;
      }
      await sleep(500);
    }
    // Anything still on its way lands (or not) within a second.
    await sleep(1000);
    const final = await withTimeout(
      page.evaluate((subject) => window.chaos.queue(subject), subject),
      15_000,
      'final queue',
    ).catch((error) => ({ error: errorText(error) }));
    const pageData = await withTimeout(
      page.evaluate(() => window.chaos.records()),
      60_000,
      'reading the page records',
    );
    // What is left in offline-outbox's queue, entry by entry (for the report: why it is stuck).
    const leftovers =
      subject === 'offline-outbox'
        ? await withTimeout(
            page.evaluate(async () =>
              (await window.offlineOutbox.entries()).map(({ id, key, url, state, attempts, nextAttemptAt, lastError, lastStatus, createdAt }) => ({
                id,
                key,
                url,
                state,
                attempts,
                nextAttemptAt,
                lastError,
                lastStatus,
                createdAt,
              })),
            ),
            15_000,
            'reading the outbox entries',
          ).catch((error) => [{ error: errorText(error) }])
        : null;
    note('end');
    const metrics = analyse({ items, ops, server, pageData, finalQueue: 'error' in final ? lastQueue : final, finalOnlineAt, drainedAt, idempotent });
    return {
      engine,
      version,
      subject,
      mode,
      seed,
      writes,
      items,
      ops,
      durationMs,
      drainCapMs: o.drainCapMs,
      stallMs: Number.isFinite(stallMs) ? stallMs : null,
      offlineBy: useSetOffline ? 'server unplugged + context.setOffline' : 'server unplugged',
      schedule,
      ...metrics,
      drained: drainedAt !== null,
      pageLoadFailures,
      stalled,
      finalQueue: 'error' in final ? { error: final.error, last: lastQueue } : final,
      leftovers: leftovers?.slice(0, 50).map((e) => ({ ...e, ...(e.createdAt ? { createdAt: e.createdAt - startedAt, nextAttemptAt: e.nextAttemptAt - startedAt } : {}) })) ?? null,
      timeline: timeline.map((t) => ({ ...t, at: t.at - startedAt })),
      progress: progress.filter((_, i) => i % 5 === 0).map((p) => ({ ...p, at: p.at - startedAt })),
      loads: pageData.loads.map((l) => ({ ...l, at: l.at - startedAt })),
      requestsLog: server.log,
      pageRecords: pageData.records,
      startedAt,
    };
  } finally {
    await page?.close().catch(() => {});
    await session?.close().catch(() => {});
    await server.close();
  }
}

/**
 * The figures of one run, from what the server logged and what the page
 * recorded. "A write" is one (item, seq); "applied" is the server applying
 * it (see server.mjs).
 */
export function analyse({ items, ops, server, pageData, finalQueue, finalOnlineAt, drainedAt, idempotent }) {
  const id = (item, seq) => `${item}:${seq}`;
  const attempts = new Map(pageData.records.map((r) => [id(r.item, r.seq), r.attempts]));
  const applied = new Map();
  for (const a of server.applications) {
    const list = applied.get(id(a.item, a.seq)) ?? [];
    list.push(a);
    applied.set(id(a.item, a.seq), list);
  }

  let acknowledged = 0;
  let lost = 0;
  let duplicates = 0;
  let appResends = 0;
  let appTimeouts = 0;
  let appliedUnacked = 0;
  let appFailures = 0;
  let interrupted = 0;
  const lostList = [];
  const duplicateList = [];
  const failureKinds = {};
  for (let item = 0; item < items; item++) {
    for (let seq = 0; seq < ops; seq++) {
      const tries = attempts.get(id(item, seq)) ?? [];
      const apps = applied.get(id(item, seq)) ?? [];
      const acked = tries.some((t) => t.o === 'ack');
      const cut = tries.filter((t) => t.o === 'int').length;
      const gaveUp = tries.filter((t) => t.o === 'fail' && t.e === 'timeout').length;
      interrupted += cut;
      appTimeouts += gaveUp;
      for (const t of tries.filter((t) => t.o === 'fail')) {
        appFailures++;
        const kind = t.s !== null ? `status ${t.s}` : t.e === 'timeout' ? 'timeout' : 'network error';
        failureKinds[kind] = (failureKinds[kind] ?? 0) + 1;
      }
      if (acked) acknowledged++;
      if (acked && apps.length === 0) {
        lost++;
        if (lostList.length < 20) lostList.push({ item, seq, attempts: tries });
      }
      if (!acked && apps.length > 0) appliedUnacked++;
      // Extra applications the page itself explains: it re-issued a write whose
      // outcome it never learned (a reload cut the attempt off, or the page gave
      // up waiting after its timeout). Not the subject's duplicates: nobody told
      // the page anything about the first attempt.
      const extra = Math.max(0, apps.length - 1);
      const explained = Math.min(extra, cut + gaveUp);
      appResends += explained;
      duplicates += extra - explained;
      if (extra - explained > 0 && duplicateList.length < 20) {
        duplicateList.push({
          item,
          seq,
          applied: apps.map((a) => ({ at: a.at, key: a.key })),
          requests: server.log.filter((e) => e.item === item && e.seq === seq).map((e) => ({ at: e.at, key: e.key, outcome: e.outcome, status: e.status, answered: e.answered })),
          attempts: tries,
        });
      }
    }
  }

  // Order: per item, an application of a seq lower than one the server already applied.
  let orderViolations = 0;
  const itemsOutOfOrder = new Set();
  const orderList = [];
  const highest = new Map();
  for (const a of server.applications) {
    const top = highest.get(a.item) ?? -1;
    if (a.seq < top) {
      orderViolations++;
      itemsOutOfOrder.add(a.item);
      if (orderList.length < 20) orderList.push({ item: a.item, seq: a.seq, at: a.at, afterSeq: top, key: a.key });
    } else highest.set(a.item, a.seq);
  }

  // Spin: the most requests the server saw for one write within any 1 s (a backoff step).
  const arrivalsByWrite = new Map();
  const arrivalsByKey = new Map();
  for (const e of server.log) {
    if (e.item === undefined) continue;
    const w = id(e.item, e.seq);
    if (!arrivalsByWrite.has(w)) arrivalsByWrite.set(w, []);
    arrivalsByWrite.get(w).push(e.at);
    if (e.key) {
      if (!arrivalsByKey.has(e.key)) arrivalsByKey.set(e.key, []);
      arrivalsByKey.get(e.key).push(e.at);
    }
  }
  const windowMax = (times) => {
    let best = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i] - times[j] >= 1000) j++;
      best = Math.max(best, i - j + 1);
    }
    return best;
  };
  for (const times of [...arrivalsByWrite.values(), ...arrivalsByKey.values()]) times.sort((a, b) => a - b);
  let spin = 0;
  let spinWrite = null;
  for (const [w, times] of arrivalsByWrite) {
    const n = windowMax(times);
    if (n > spin) {
      spin = n;
      spinWrite = w;
    }
  }
  // The worst window, request by request (what spun, and whether the server had asked for it with a 503).
  let spinDetail = null;
  if (spinWrite) {
    const times = arrivalsByWrite.get(spinWrite);
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i] - times[j] >= 1000) j++;
      if (i - j + 1 === spin) {
        const [item, seq] = spinWrite.split(':').map(Number);
        spinDetail = server.log.filter((e) => e.item === item && e.seq === seq && e.at >= times[j] && e.at <= times[i]).map((e) => ({ at: e.at, key: e.key, outcome: e.outcome }));
        break;
      }
    }
  }
  let spinPerKey = 0;
  for (const times of arrivalsByKey.values()) spinPerKey = Math.max(spinPerKey, windowMax(times));

  const writeLog = server.log.filter((e) => e.method === 'POST');
  const count = (outcome) => writeLog.filter((e) => e.outcome === outcome).length;
  const lastWriteAt = writeLog.length ? writeLog[writeLog.length - 1].at : finalOnlineAt;

  let stuck = null;
  let dead = null;
  if (finalQueue?.kind === 'offline-outbox') {
    stuck = finalQueue.pending + finalQueue.inFlight + (finalQueue.conflicts ?? 0) + (finalQueue.auth ?? 0);
    dead = finalQueue.dead ?? 0;
  } else if (finalQueue?.kind === 'workbox') {
    stuck = finalQueue.requests;
  }

  return {
    acknowledged,
    applied: applied.size,
    lost,
    duplicates,
    appResends,
    orderViolations,
    itemsOutOfOrder: itemsOutOfOrder.size,
    stuck,
    dead,
    drainMs: drainedAt === null ? null : Math.max(0, lastWriteAt - finalOnlineAt),
    spin,
    spinWrite,
    spinDetail,
    spinPerKey,
    appFailures,
    appTimeouts,
    failureKinds,
    appliedUnacked,
    interrupted,
    pageAttempts: pageData.records.reduce((n, r) => n + r.attempts.length, 0),
    maxInFlight: pageData.maxInFlight,
    pageDoneAt: pageData.done,
    server: {
      writeRequests: writeLog.length,
      applied: server.applications.length,
      status503: count('503'),
      replayedByKey: count('replayed'),
      bad: count('bad'),
      unanswered: writeLog.filter((e) => !e.answered).length,
      withoutKey: writeLog.filter((e) => !e.key).length,
      distinctKeys: new Set(writeLog.map((e) => e.key).filter(Boolean)).size,
      idempotent,
    },
    lostList,
    duplicateList,
    orderList,
  };
}

const fmtMs = (ms) => (ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);
const dash = (v) => (v === null || v === undefined ? '—' : String(v));

/** The table: one row per engine × subject × mode. */
export function formatTable(results) {
  const head = ['engine', 'subject', 'server', 'writes', 'acked', 'applied', 'lost', 'dup', 'order', 'stuck', 'dead', 'drain', 'spin', 'app failures', 'app re-sends'];
  const rows = results.map((r) =>
    r.error
      ? [r.engine, r.subject, r.mode, String(r.writes), `ERROR: ${r.error}`]
      : [
          r.engine,
          r.subject,
          r.mode,
          String(r.writes),
          String(r.acknowledged),
          String(r.applied),
          String(r.lost),
          String(r.duplicates),
          r.orderViolations ? `${r.orderViolations} (${r.itemsOutOfOrder} items)` : '0',
          dash(r.stuck),
          dash(r.dead),
          r.drained ? fmtMs(r.drainMs) : r.stalled ? `stalled` : `> ${fmtMs(r.drainCapMs)}`,
          String(r.spin),
          String(r.appFailures),
          String(r.appResends),
        ],
  );
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row.length === 5 && i === 4 ? 0 : (row[i] ?? '').length))));
  const line = (cells) =>
    cells.length === 5 && cells[4].startsWith('ERROR')
      ? `| ${cells
          .slice(0, 4)
          .map((c, i) => c.padEnd(widths[i]))
          .join(' | ')} | ${cells[4]}`
      : `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The targets offline-outbox must meet in a run (DESIGN "Targets", issue 9); [] when it meets them. */
export function missedTargets(r) {
  if (r.subject !== 'offline-outbox') return [];
  if (r.error) return [`the run failed: ${r.error}`];
  const missed = [];
  if (r.acknowledged !== r.writes) missed.push(`only ${r.acknowledged} of ${r.writes} writes acknowledged`);
  if (r.lost) missed.push(`${r.lost} lost`);
  if (r.orderViolations) missed.push(`${r.orderViolations} order violations`);
  if (r.mode === 'idempotent' && r.duplicates) missed.push(`${r.duplicates} duplicates`);
  if (r.stuck === null) missed.push('the queue could not be read at the end');
  else if (r.stuck) missed.push(`${r.stuck} stuck in the queue`);
  if (r.dead) missed.push(`${r.dead} dead in the queue`);
  return missed;
}

/** One line per duplicate, order violation and lost write of a result (the first 20 of each), for reports. */
export function describeAnomalies(r) {
  if (r.error) return [];
  const rel = (at) => `+${((at - r.startedAt) / 1000).toFixed(2)}s`;
  const attempt = (a) => `${a.o}${a.s ? ` ${a.s}` : ''}${a.e ? ` (${a.e})` : ''} ${rel(a.t)}`;
  return [
    ...r.duplicateList.map(
      (d) =>
        `duplicate ${d.item}:${d.seq}: applied ${d.applied.length}× (keys ${d.applied.map((a) => `${a.key ?? 'none'} ${rel(a.at)}`).join(', ')}); the page's attempts: ${d.attempts.map(attempt).join('; ')}`,
    ),
    ...r.orderList.map((v) => `order: item ${v.item} seq ${v.seq} applied ${rel(v.at)} after seq ${v.afterSeq} (key ${v.key ?? 'none'})`),
    ...r.lostList.map((l) => `lost ${l.item}:${l.seq}: the page's attempts: ${l.attempts.map(attempt).join('; ')}`),
    ...(r.spin > 1 && r.spinDetail
      ? [`spin ${r.spin}: write ${r.spinWrite} within 1 s: ${r.spinDetail.map((e) => `${rel(e.at)} ${e.outcome} (key ${e.key ?? 'none'})`).join(', ')}`]
      : []),
  ];
}
