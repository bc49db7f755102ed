#!/usr/bin/env node
/**
 * `npm run bench`: offline-outbox against plain Workbox, side by side, in
 * headless Chromium. See bench/README.md.
 *
 *   BENCH_RUNS=3                       repetitions of each case (median reported)
 *   BENCH_SCALE_RUNS=1                 repetitions of the heap and growth cases (10,000 writes each)
 *   BENCH_SUBJECTS=offline-outbox,workbox
 *   BENCH_CASES=enqueue,replay,get,notice,overlay,coldstart,heap,growth
 *   BENCH_CALIBRATE=0                  skip the calibration runs (no worker / ideal worker / ideal replayer)
 *   BENCH_README=1                     also write the summary table and chart into README.md
 *   BENCH_REPLAY_CAP_S=120             how long a replay may take before it is cut off
 *   BENCH_BUILD=0                      do not run `npm run build` before measuring offline-outbox
 *   BENCH_DIST=path                    measure offline-outbox from another build directory (no build)
 *
 *   npm run bench -- server            the server half's bench instead (bench/server/run.mjs)
 *
 * Exit status: 0 when every selected subject was measured and every
 * correctness check held, whether or not the performance targets were met
 * (the numbers are the result); 1 when the harness could not measure
 * something (a subject not ready, a timeout, a failed check).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, readdirSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  GET_WORKLOAD,
  NOTICE_WORKLOAD,
  probe,
  runEnqueue,
  runGet,
  runIdealEnqueue,
  runIdealReplay,
  runNoWorkerEnqueue,
  runNoWorkerGet,
  runNoWorkerNotice,
  runNotice,
  runReplay,
  WORKLOAD,
} from './lib/cases.mjs';
import { COLDSTART_WORKLOAD, GROWTH_WORKLOAD, HEAP_WORKLOAD, OVERLAY_WORKLOAD, runColdStart, runGrowth, runHeap, runOverlay } from './lib/scale-cases.mjs';
import { DIST_DIR, SUBJECTS } from './lib/subjects.mjs';
import { formatSummaryTable, summaryMarkdown, updateReadmeSection, verdictOf, writeSummary } from './lib/summary.mjs';
import { median, NotReadyError } from './lib/util.mjs';

// `npm run bench -- server`: the server half's bench (bench/server/run.mjs), with its own exit status.
if (process.argv[2] === 'server') {
  const { status } = spawnSync(process.execPath, [fileURLToPath(new URL('./server/run.mjs', import.meta.url)), ...process.argv.slice(3)], { stdio: 'inherit' });
  process.exit(status ?? 1);
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'bench/results');
const OURS = 'offline-outbox';
const BASE = 'workbox';
/** Calibration runs, not subjects: what the machine and harness allow. */
const NO_WORKER = 'no worker (calibration)';
const IDEAL = 'ideal replayer (calibration)';
const IDEAL_WORKER = 'ideal worker (calibration)';

// ---------------------------------------------------------------- settings

function list(name, allowed) {
  const raw = process.env[name];
  if (!raw) return allowed;
  const chosen = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = chosen.filter((s) => !allowed.includes(s));
  if (unknown.length || chosen.length === 0) fatal(`${name}=${raw}: expected a comma-separated list of ${allowed.join(', ')}`);
  return allowed.filter((s) => chosen.includes(s));
}

function positive(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) fatal(`${name}=${raw}: expected a positive number`);
  return n;
}

function fatal(message) {
  console.error(`bench: ${message}`);
  process.exit(1);
}

const runs = Math.round(positive('BENCH_RUNS', 3));
/** The heap and growth cases queue 10,000 writes per trial (minutes with Workbox): fewer runs by default. */
const scaleRuns = Math.round(positive('BENCH_SCALE_RUNS', 1));
const subjects = list('BENCH_SUBJECTS', [OURS, BASE]);
const cases = list('BENCH_CASES', ['enqueue', 'replay', 'get', 'notice', 'overlay', 'coldstart', 'heap', 'growth']);
const calibrate = process.env.BENCH_CALIBRATE !== '0';
const replayCapMs = positive('BENCH_REPLAY_CAP_S', 120) * 1000;
/** `--summary`: print and write the summary again from the results of the last run, measuring nothing. */
const summaryOnly = process.argv.includes('--summary');
const build = process.env.BENCH_BUILD !== '0' && !process.env.BENCH_DIST && !summaryOnly;

/** ⌈1000/6⌉ × 20 ms: every write replayed 6 at a time, nothing else. */
const REPLAY_FLOOR_MS = Math.ceil(WORKLOAD.writes / WORKLOAD.connectionsPerHost) * WORKLOAD.writeDelayMs;
const TARGETS = {
  enqueueRatio: 2,
  replaySpeedup: 5,
  replayFloorFactor: 1.3,
  getRatio: 1.1,
  getOverNoWorkerMs: 1,
  /** Cached entries a notice may refetch beyond those it names (its item and its collection's variants). */
  noticeUnrelated: 0,
  /** Time-to-fresh after the notice reached the page, in round trips (a plain GET's median). */
  noticeRoundTrips: 1,
};
const NOTICE_ENTRIES = NOTICE_WORKLOAD.catalog.resources.length * (NOTICE_WORKLOAD.catalog.items + Math.ceil(NOTICE_WORKLOAD.catalog.items / NOTICE_WORKLOAD.catalog.pageSize));
const NOTICE_PAGES = Math.ceil(NOTICE_WORKLOAD.catalog.items / NOTICE_WORKLOAD.catalog.pageSize);

// ---------------------------------------------------------------- machine

const packageVersion = (name) => {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
};

const startedAt = new Date();
/** The date the summary carries: this run's, or (`--summary`) the run's whose results it reads. */
let summaryDate = startedAt.toISOString();
/** `--summary`: the runs of the run whose results it reads. */
let runsOfSaved = runs;
const machine = {
  cpuCount: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  totalMemoryMB: Math.round(totalmem() / 2 ** 20),
  os: `${process.platform} ${release()}`,
  node: process.version,
  chromium: 'unknown',
  playwrightCore: packageVersion('playwright-core'),
  workbox: packageVersion('workbox-background-sync'),
  loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  loadAverageAtEnd: null,
};

// ---------------------------------------------------------------- helpers

const fixed = (n, digits = 0) => (n === null || n === undefined || Number.isNaN(n) ? '—' : n.toFixed(digits));
const seconds = (ms) => (ms === null || ms === undefined || Number.isNaN(ms) ? '—' : Math.abs(ms) < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`);
const millis = (ms) => (ms === null || ms === undefined || Number.isNaN(ms) ? '—' : `${ms.toFixed(3)} ms`);
const tenths = (ms) => (ms === null || ms === undefined || Number.isNaN(ms) ? '—' : `${ms.toFixed(1)} ms`);
const signedMillis = (ms) => (ms === null || ms === undefined || Number.isNaN(ms) ? '—' : `${ms < 0 ? '−' : '+'}${Math.abs(ms).toFixed(3)} ms`);
const errorText = (error) => (error instanceof Error ? error.message : String(error));

/**
 * A measured value that may be a lower bound (a replay cut off at the cap
 * took at least that long).
 * @typedef {{ value: number, atLeast: boolean }} Measure
 */

/** Median of measures; a lower bound when a bound sits in the middle. */
function medianMeasure(measures) {
  if (measures.length === 0) return null;
  const sorted = [...measures].sort((a, b) => a.value - b.value);
  const mid = Math.floor(sorted.length / 2);
  const middle = sorted.length % 2 ? [sorted[mid]] : [sorted[mid - 1], sorted[mid]];
  return { value: median(middle.map((m) => m.value)), atLeast: middle.some((m) => m.atLeast) };
}

const showMeasure = (m, format) => (m ? `${m.atLeast ? '≥ ' : ''}${format(m.value)}` : '—');

/** ours / base, with what the bounds allow: 'exact', 'atMost' or 'atLeast' (or null: unknown). */
function ratio(ours, base) {
  if (!ours || !base) return null;
  const value = ours.value / base.value;
  if (ours.atLeast && base.atLeast) return null;
  return { value, bound: ours.atLeast ? 'atLeast' : base.atLeast ? 'atMost' : 'exact' };
}
const showRatio = (r) => (r ? `${r.bound === 'atMost' ? '≤ ' : r.bound === 'atLeast' ? '≥ ' : ''}${r.value.toFixed(2)}×` : '—');

/** PASS/FAIL of "value ≥ limit" or "value ≤ limit" given the bound; 'unknown' when the bound cannot decide. */
function verdict(r, op, limit) {
  if (!r) return 'unknown';
  const { value, bound } = r;
  if (op === '>=') {
    if (value >= limit && bound !== 'atMost') return 'PASS';
    if (value < limit && bound !== 'atLeast') return 'FAIL';
  } else {
    if (value <= limit && bound !== 'atLeast') return 'PASS';
    if (value > limit && bound !== 'atMost') return 'FAIL';
  }
  return 'unknown';
}

// ---------------------------------------------------------------- cases

/** The median over a subject's runs of a per-run number (runs without one left out); null without runs. */
function medianOf(samples, name, pick) {
  const values = samples[name]?.map(pick).filter((v) => v !== null);
  return values?.length ? median(values) : null;
}
/** A measured value for ratio(): null stays null (not measured). */
const exact = (v) => (v === null || Number.isNaN(v) ? null : { value: v, atLeast: false });

/** A table row that informs (no target): the median and each run's value. */
const info = (name, metric, values, format, target = '') => ({
  subject: name,
  metric,
  median: format(median(values.filter((v) => v !== null))),
  samples: values.map((v) => (v === null ? '—' : format(v))).join(', '),
  ratio: '',
  target,
  verdict: '',
  kind: 'info',
});

/**
 * Rows for the scale cases: one info row per subject and metric (the median
 * and every run's value). `metrics`: [label, pick(sample) → number|null, format, note?].
 */
function metricRows(samples, metrics) {
  const rows = [];
  for (const name of [OURS, BASE]) {
    const s = samples[name];
    if (!s) continue;
    for (const [label, pick, format, note = ''] of metrics) {
      const values = s.map(pick);
      if (values.every((v) => v === null || v === undefined)) continue;
      rows.push(
        info(
          name,
          label,
          values.map((v) => v ?? null),
          format,
          note,
        ),
      );
    }
  }
  return rows;
}
const kb = (bytes) => (bytes === null || bytes === undefined ? '—' : `${(bytes / 1024).toFixed(0)} KB`);

const CASES = {
  enqueue: {
    title: `enqueue: ${WORKLOAD.writes} writes offline over ${WORKLOAD.resources} resources, ${WORKLOAD.inflight} in flight; wall time until every page fetch settled`,
    run: (subject) => runEnqueue(subject),
    calibrations: [
      {
        name: NO_WORKER,
        run: runNoWorkerEnqueue,
        progress: (r) => `${fixed(r.writesPerSec)} writes/s (${seconds(r.elapsedMs)}); ${r.sent.rejected} fetches failed`,
      },
      {
        name: IDEAL_WORKER,
        run: runIdealEnqueue,
        progress: (r) => `${fixed(r.writesPerSec)} writes/s (${seconds(r.elapsedMs)}); p50 answer ${tenths(r.sent.latency.p50)}; ${r.queued} answered 202`,
      },
    ],
    progress: (subject, r) =>
      `${fixed(r.writesPerSec)} writes/s (${seconds(r.elapsedMs)}); p50 answer ${tenths(r.sent.latency.p50)}; queued ${r.queued}/${WORKLOAD.writes} (${subject.queuedBy}); page saw ${JSON.stringify(r.sent.statuses)}, ${r.sent.rejected} rejected`,
    summarize(samples) {
      const m = (name) => (samples[name]?.length ? { value: median(samples[name].map((r) => r.writesPerSec)), atLeast: false } : null);
      const ours = m(OURS);
      const base = m(BASE);
      const r = ratio(ours, base);
      const rows = [];
      for (const name of [OURS, BASE]) {
        const s = samples[name];
        if (!s) continue;
        const isOurs = name === OURS;
        rows.push({
          subject: name,
          metric: 'writes/s',
          median: showMeasure(m(name), (v) => fixed(v)),
          samples: s.map((x) => fixed(x.writesPerSec)).join(', '),
          ratio: isOurs ? showRatio(r) : '',
          target: isOurs ? `ours ≥ ${TARGETS.enqueueRatio}× workbox` : '(baseline)',
          verdict: isOurs ? (base ? verdict(r, '>=', TARGETS.enqueueRatio) : 'n/a (no workbox run)') : '',
          kind: isOurs ? 'target' : 'info',
        });
        rows.push(
          info(
            name,
            'time for all writes',
            s.map((x) => x.elapsedMs),
            seconds,
          ),
        );
        rows.push(
          info(
            name,
            'p50 answer latency (fetch → settled)',
            s.map((x) => x.sent.latency.p50),
            tenths,
          ),
        );
        if (!isOurs)
          rows.push(
            info(
              name,
              'page fetches rejected',
              s.map((x) => x.sent.rejected),
              (v) => fixed(v),
              '(expected: its plugin re-throws)',
            ),
          );
      }
      const bare = samples[NO_WORKER];
      if (bare)
        rows.push(
          info(
            NO_WORKER,
            'writes/s',
            bare.map((x) => x.writesPerSec),
            (v) => fixed(v),
            '(page loop + network stack alone)',
          ),
        );
      const ideal = samples[IDEAL_WORKER];
      if (ideal)
        rows.push(
          info(
            IDEAL_WORKER,
            'writes/s',
            ideal.map((x) => x.writesPerSec),
            (v) => fixed(v),
            '(answers 202 at once, stores nothing)',
          ),
          info(
            IDEAL_WORKER,
            'p50 answer latency (fetch → settled)',
            ideal.map((x) => x.sent.latency.p50),
            tenths,
          ),
        );
      return { rows, medians: { [OURS]: ours, [BASE]: base, [NO_WORKER]: bare ? median(bare.map((x) => x.writesPerSec)) : null }, ratio: r };
    },
  },
  replay: {
    title: `replay: ${WORKLOAD.writes} queued writes (${WORKLOAD.writes / WORKLOAD.resources} per resource), then online; time until the server (+${WORKLOAD.writeDelayMs} ms per write) answered them all`,
    run: (subject) => runReplay(subject, replayCapMs),
    calibration: {
      name: IDEAL,
      run: runIdealReplay,
      progress: (r) => `${seconds(r.timeToAllMs)}; max ${r.maxInFlightAtServer}, mean ${fixed(r.meanInFlightAtServer, 2)} at once at the server`,
    },
    progress: (_subject, r) =>
      `${r.complete ? '' : `INCOMPLETE at the ${seconds(replayCapMs)} cap: `}${r.distinct}/${WORKLOAD.writes} delivered in ${seconds(r.timeToAllMs)}; first after ${seconds(r.firstArrivalMs)}; sync dispatched ${r.syncDispatchedMs === null ? 'never' : `after ${seconds(r.syncDispatchedMs)}`}; max ${r.maxInFlightAtServer} at once at the server; ${r.orderViolations} out of order, ${r.duplicates} duplicates; page after online: ${r.afterOnline}`,
    summarize(samples) {
      const time = (name) => (samples[name]?.length ? medianMeasure(samples[name].map((r) => ({ value: r.timeToAllMs, atLeast: !r.complete }))) : null);
      const ours = time(OURS);
      const base = time(BASE);
      const r = ratio(ours, base);
      const floorLimit = TARGETS.replayFloorFactor * REPLAY_FLOOR_MS;
      const rows = [];

      for (const name of [OURS, BASE]) {
        const s = samples[name];
        if (!s) continue;
        const isOurs = name === OURS;
        const timeRow = {
          subject: name,
          metric: `time to deliver all ${WORKLOAD.writes}`,
          median: showMeasure(time(name), seconds),
          samples: s.map((x) => `${x.complete ? '' : '≥ '}${seconds(x.timeToAllMs)}`).join(', '),
          ratio: '',
          target: '(baseline)',
          verdict: '',
          kind: 'info',
        };
        if (isOurs) {
          rows.push({
            ...timeRow,
            ratio: showRatio(r),
            target: `ours ≥ ${TARGETS.replaySpeedup}× faster (ratio ≤ ${(1 / TARGETS.replaySpeedup).toFixed(2)}×)`,
            verdict: base ? verdict(r, '<=', 1 / TARGETS.replaySpeedup) : 'n/a (no workbox run)',
            kind: 'target',
          });
          rows.push({
            ...timeRow,
            sameAsAbove: true,
            target: `≤ ${seconds(floorLimit)} (${TARGETS.replayFloorFactor} × ⌈${WORKLOAD.writes}/${WORKLOAD.connectionsPerHost}⌉ × ${WORKLOAD.writeDelayMs} ms)`,
            verdict: ours ? verdict({ value: ours.value, bound: ours.atLeast ? 'atLeast' : 'exact' }, '<=', floorLimit) : 'n/a',
            kind: 'target',
          });
        } else rows.push(timeRow);
        rows.push(
          info(
            name,
            `delivered (cap ${seconds(replayCapMs)})`,
            s.map((x) => x.distinct),
            (v) => fixed(v),
          ),
        );
        rows.push(
          info(
            name,
            'first delivery after online',
            s.map((x) => x.firstArrivalMs),
            seconds,
          ),
        );
        rows.push(
          info(
            name,
            'sync event dispatched after online',
            s.map((x) => x.syncDispatchedMs),
            seconds,
          ),
        );
        rows.push(
          info(
            name,
            'most writes at once at the server',
            s.map((x) => x.maxInFlightAtServer),
            (v) => fixed(v),
            `(≤ ${WORKLOAD.connectionsPerHost} per host)`,
          ),
        );
        rows.push(
          info(
            name,
            'mean writes at once at the server',
            s.map((x) => x.meanInFlightAtServer),
            (v) => fixed(v, 2),
          ),
        );
        if (!isOurs)
          rows.push(
            info(
              name,
              'still queued after',
              s.map((x) => (typeof x.remaining === 'number' ? x.remaining : null)),
              (v) => fixed(v),
            ),
          );
      }
      const ideal = samples[IDEAL];
      const idealMs = ideal ? median(ideal.map((x) => x.timeToAllMs)) : null;
      if (ideal) {
        rows.push(
          info(
            IDEAL,
            `time to deliver all ${WORKLOAD.writes}`,
            ideal.map((x) => x.timeToAllMs),
            seconds,
            `(this machine's floor; theory ${seconds(REPLAY_FLOOR_MS)})`,
          ),
        );
        rows.push(
          info(
            IDEAL,
            'mean writes at once at the server',
            ideal.map((x) => x.meanInFlightAtServer),
            (v) => fixed(v, 2),
          ),
        );
        // How far ours is from what this machine allows (context, not a target).
        if (ours) {
          const at = rows.findIndex((row) => row.subject === OURS && row.kind === 'target') + 2;
          rows.splice(at, 0, {
            subject: OURS,
            metric: "time ÷ ideal replayer's",
            median: `${ours.atLeast ? '≥ ' : ''}${(ours.value / idealMs).toFixed(2)}×`,
            samples: '',
            ratio: '',
            target: '(context)',
            verdict: '',
            kind: 'info',
          });
        }
      }
      return { rows, medians: { [OURS]: ours, [BASE]: base, [IDEAL]: idealMs }, ratio: r };
    },
  },
  get: {
    title: `get: ${GET_WORKLOAD.measuredGets} sequential GETs over ${GET_WORKLOAD.warmUrls} warm URLs of a cache-first route (${GET_WORKLOAD.cachedPrefix}:id) and ${GET_WORKLOAD.measuredGets} that no route matches (${GET_WORKLOAD.unmatchedPrefix}:id), in turns with the same on a page with no worker; time per GET in the page`,
    run: (subject) => runGet(subject),
    calibration: {
      name: NO_WORKER,
      run: runNoWorkerGet,
      progress: (r) =>
        `item GETs median ${millis(r.cached.medianMs)} (${signedMillis(r.cachedOverBareMs)} vs the page beside), other GETs median ${millis(r.unmatched.medianMs)} (${signedMillis(r.unmatchedOverBareMs)}); server saw ${r.cached.atServer.cached} + ${r.unmatched.atServer.unmatched}`,
    },
    progress: (_subject, r) =>
      `cached median ${millis(r.cached.medianMs)}, p95 ${millis(r.cached.p95Ms)}, ${signedMillis(r.cachedOverBareMs)} vs no worker (server saw ${r.cached.atServer.cached}); unmatched median ${millis(r.unmatched.medianMs)}, p95 ${millis(r.unmatched.p95Ms)}, ${signedMillis(r.unmatchedOverBareMs)} vs no worker (server saw ${r.unmatched.atServer.unmatched}); no worker beside: ${millis(r.bareCached.medianMs)} / ${millis(r.bareUnmatched.medianMs)}`,
    summarize(samples) {
      /** Median over the runs of a per-run number. */
      const m = (name, pick) => medianOf(samples, name, pick);
      const cachedMs = (r) => r.cached.medianMs;
      const unmatchedMs = (r) => r.unmatched.medianMs;
      /** The cached median relative to the page with no worker beside it, in the same trial. */
      const cachedOverBareRatio = (r) => r.cached.medianMs / r.bareCached.medianMs;
      const rHit = ratio(exact(m(OURS, cachedMs)), exact(m(BASE, cachedMs)));
      const rUnmatched = ratio(exact(m(OURS, unmatchedMs)), exact(m(BASE, unmatchedMs)));
      const rAdjusted = ratio(exact(m(OURS, cachedOverBareRatio)), exact(m(BASE, cachedOverBareRatio)));
      const rows = [];
      for (const name of [OURS, BASE]) {
        const s = samples[name];
        if (!s) continue;
        const isOurs = name === OURS;
        const hitRow = info(name, 'cached GET, median', s.map(cachedMs), millis, '(baseline)');
        rows.push(
          isOurs
            ? {
                ...hitRow,
                ratio: showRatio(rHit),
                target: `ours ≤ ${TARGETS.getRatio}× workbox`,
                verdict: samples[BASE] ? verdict(rHit, '<=', TARGETS.getRatio) : 'n/a (no workbox run)',
                kind: 'target',
              }
            : hitRow,
        );
        const overRow = info(
          name,
          "cached GET, median − no worker's",
          s.map((x) => x.cachedOverBareMs),
          signedMillis,
          '(context)',
        );
        rows.push(
          isOurs
            ? {
                ...overRow,
                target: `≤ +${TARGETS.getOverNoWorkerMs} ms over no worker`,
                verdict: verdict({ value: median(s.map((x) => x.cachedOverBareMs)), bound: 'exact' }, '<=', TARGETS.getOverNoWorkerMs),
                kind: 'target',
              }
            : overRow,
        );
        rows.push({
          ...info(name, "cached GET ÷ no worker's", s.map(cachedOverBareRatio), (v) => `${v.toFixed(2)}×`, '(context: ours/workbox net of machine drift)'),
          ratio: isOurs ? showRatio(rAdjusted) : '',
        });
        rows.push(
          info(
            name,
            'cached GET, p95',
            s.map((x) => x.cached.p95Ms),
            millis,
          ),
        );
        // "Pays nothing", as far as the worker can: the browser dispatches every
        // request to a worker with a fetch listener (Workbox's too); what is
        // the worker's own is what it adds to that (bench/README.md).
        const unmatchedRow = info(name, 'unmatched GET, median', s.map(unmatchedMs), millis, '(baseline)');
        rows.push(
          isOurs
            ? {
                ...unmatchedRow,
                ratio: showRatio(rUnmatched),
                target: `pays nothing: ours ≤ ${TARGETS.getRatio}× workbox`,
                verdict: samples[BASE] ? verdict(rUnmatched, '<=', TARGETS.getRatio) : 'n/a (no workbox run)',
                kind: 'target',
              }
            : unmatchedRow,
        );
        rows.push(
          info(
            name,
            "unmatched GET, median − no worker's",
            s.map((x) => x.unmatchedOverBareMs),
            signedMillis,
            '(the dispatch any fetch listener costs)',
          ),
        );
        rows.push(
          info(
            name,
            'unmatched GET, p95',
            s.map((x) => x.unmatched.p95Ms),
            millis,
          ),
        );
        rows.push(
          info(
            name,
            'no worker beside: item GET, median',
            s.map((x) => x.bareCached.medianMs),
            millis,
            '(loopback server, answers at once)',
          ),
        );
      }
      const bare = samples[NO_WORKER];
      if (bare) {
        rows.push(info(NO_WORKER, 'item GET, median', bare.map(cachedMs), millis, '(loopback server, answers at once)'));
        rows.push(
          info(
            NO_WORKER,
            "item GET, median − no worker's",
            bare.map((x) => x.cachedOverBareMs),
            signedMillis,
            "(the method's own bias: ideally 0)",
          ),
        );
        rows.push(
          info(
            NO_WORKER,
            "other GET, median − no worker's",
            bare.map((x) => x.unmatchedOverBareMs),
            signedMillis,
            "(the method's own bias: ideally 0)",
          ),
        );
      }
      const medians = (name, s) =>
        s
          ? {
              cachedMs: m(name, cachedMs),
              unmatchedMs: m(name, unmatchedMs),
              cachedOverNoWorkerMs: m(name, (x) => x.cachedOverBareMs),
              unmatchedOverNoWorkerMs: m(name, (x) => x.unmatchedOverBareMs),
            }
          : null;
      return {
        rows,
        medians: { [OURS]: medians(OURS, samples[OURS]), [BASE]: medians(BASE, samples[BASE]), [NO_WORKER]: medians(NO_WORKER, bare) },
        ratio: rHit && { ...rHit, unmatched: rUnmatched, cachedNetOfNoWorker: rAdjusted },
      };
    },
  },
  notice: {
    title: `notice: ${NOTICE_ENTRIES} cached entries (${NOTICE_WORKLOAD.catalog.resources.join(' and ')}: ${NOTICE_WORKLOAD.catalog.items} items + ${NOTICE_PAGES} collection pages each), one item changed on the server and one notice about it; requests it causes, and time until the page reads the new item`,
    run: (subject) => runNotice(subject),
    calibration: {
      name: NO_WORKER,
      run: runNoWorkerNotice,
      progress: (r) =>
        `fresh ${tenths(r.timeToFreshMs)} after publishing (delivery ${tenths(r.deliveryMs)}, then ${tenths(r.freshAfterDeliveryMs)}); round trip ${tenths(r.roundTripMs)}; ${r.requestsAfterNotice} request(s) after the notice`,
    },
    progress: (_subject, r) =>
      `${r.requestsAfterNotice} request(s) after the notice (${r.namedRefetched}/${r.affected} named entries, ${r.unrelatedAfterNotice} unrelated, ${r.notModifiedAfterNotice} answered 304); next pass ${r.passRequests}; fresh ${tenths(r.timeToFreshMs)} after publishing (delivery ${tenths(r.deliveryMs)}, then ${tenths(r.freshAfterDeliveryMs)}); round trip ${tenths(r.roundTripMs)}; entries cached after the notice ${r.entriesAfterNotice}/${r.entries}`,
    summarize(samples) {
      const m = (name, pick) => medianOf(samples, name, pick);
      const count = (v) => fixed(v);
      const rWarm = ratio(exact(m(OURS, (x) => x.requestsUntilWarm)), exact(m(BASE, (x) => x.requestsUntilWarm)));
      const rFresh = ratio(exact(m(OURS, (x) => x.timeToFreshMs)), exact(m(BASE, (x) => x.timeToFreshMs)));
      const rows = [];
      for (const name of [OURS, BASE]) {
        const s = samples[name];
        if (!s) continue;
        const isOurs = name === OURS;
        rows.push({
          ...info(
            name,
            `requests until fresh and warm again (notice + next pass over the ${NOTICE_ENTRIES})`,
            s.map((x) => x.requestsUntilWarm),
            count,
            isOurs ? '(context)' : '(baseline)',
          ),
          ratio: isOurs ? showRatio(rWarm) : '',
        });
        const unrelatedRow = info(
          name,
          'unrelated refetches after the notice',
          s.map((x) => x.unrelatedAfterNotice),
          count,
          '(context)',
        );
        const worst = Math.max(...s.map((x) => x.unrelatedAfterNotice));
        rows.push(
          isOurs
            ? { ...unrelatedRow, target: `= ${TARGETS.noticeUnrelated} (every run)`, verdict: worst <= TARGETS.noticeUnrelated ? 'PASS' : 'FAIL', kind: 'target' }
            : { ...unrelatedRow, target: '(its purge refetches nothing now: the next pass pays)' },
        );
        rows.push(
          info(
            name,
            'requests after the notice',
            s.map((x) => x.requestsAfterNotice),
            count,
            isOurs ? `(named: the item + its collection's ${NOTICE_PAGES} pages = ${s[0].affected})` : '(the item, read back)',
          ),
        );
        rows.push(
          info(
            name,
            'requests after the notice answered 304',
            s.map((x) => x.notModifiedAfterNotice),
            count,
          ),
        );
        rows.push(
          info(
            name,
            `next pass over the ${NOTICE_ENTRIES}: requests`,
            s.map((x) => x.passRequests),
            count,
            isOurs ? '(all from the cache)' : '(the purged entries, again)',
          ),
        );
        if (!isOurs)
          rows.push(
            info(
              name,
              `next pass over the ${NOTICE_ENTRIES}: requests answered 304`,
              s.map((x) => x.passNotModified),
              count,
              '(the HTTP cache revalidates what the purge dropped)',
            ),
          );
        rows.push(
          info(
            name,
            `next pass over the ${NOTICE_ENTRIES}: time`,
            s.map((x) => x.passElapsedMs),
            seconds,
            `(${NOTICE_WORKLOAD.inflight} at a time)`,
          ),
        );
        if (isOurs)
          rows.push(
            info(
              name,
              'catch-up (since) requests after the notice',
              s.map((x) => x.catchUpsAfterNotice),
              count,
            ),
          );
        rows.push({
          ...info(
            name,
            'time-to-fresh (publish → fresh read in the page)',
            s.map((x) => x.timeToFreshMs),
            tenths,
            isOurs ? '(context)' : '(baseline)',
          ),
          ratio: isOurs ? showRatio(rFresh) : '',
        });
        rows.push(
          info(
            name,
            "notice delivery (publish → the page's EventSource)",
            s.map((x) => x.deliveryMs),
            tenths,
          ),
        );
        const afterRow = info(
          name,
          'time-to-fresh − delivery',
          s.map((x) => x.freshAfterDeliveryMs),
          tenths,
          '(context)',
        );
        const roundTrip = m(name, (x) => x.roundTripMs);
        rows.push(
          isOurs
            ? {
                ...afterRow,
                target: `≤ ${TARGETS.noticeRoundTrips} round trip (${tenths(roundTrip)}, below)`,
                verdict: verdict({ value: m(name, (x) => x.freshAfterDeliveryMs), bound: 'exact' }, '<=', TARGETS.noticeRoundTrips * roundTrip),
                kind: 'target',
              }
            : afterRow,
        );
        rows.push(
          info(
            name,
            `one round trip (plain GET from the page, median of ${NOTICE_WORKLOAD.roundTripGets})`,
            s.map((x) => x.roundTripMs),
            tenths,
            '(no route: the network)',
          ),
        );
        rows.push(
          info(
            name,
            'publish → item requested at the server',
            s.map((x) => x.itemRequestedMs),
            tenths,
            isOurs ? "(register.js forwards it, then the worker's steps)" : '(after the purge)',
          ),
        );
        if (isOurs) {
          rows.push(
            info(
              name,
              'publish → last named entry requested at the server',
              s.map((x) => x.lastNamedRequestedMs),
              tenths,
              '(items are announced when fresh; the list pages apart)',
            ),
          );
          rows.push(
            info(
              name,
              'publish → cache-updated heard in the page',
              s.map((x) => x.heardMs),
              tenths,
            ),
          );
        } else {
          rows.push(
            info(
              name,
              'publish → every cache deleted',
              s.map((x) => x.purgedMs),
              tenths,
            ),
          );
        }
      }
      const bare = samples[NO_WORKER];
      if (bare) {
        rows.push(
          info(
            NO_WORKER,
            'time-to-fresh (publish → fresh read in the page)',
            bare.map((x) => x.timeToFreshMs),
            tenths,
            '(a network read on the notice: the floor)',
          ),
        );
        rows.push(
          info(
            NO_WORKER,
            'time-to-fresh − delivery',
            bare.map((x) => x.freshAfterDeliveryMs),
            tenths,
            '(one network read)',
          ),
        );
        rows.push(
          info(
            NO_WORKER,
            `one round trip (plain GET from the page, median of ${NOTICE_WORKLOAD.roundTripGets})`,
            bare.map((x) => x.roundTripMs),
            tenths,
          ),
        );
      }
      const medians = (name, s) =>
        s
          ? {
              requestsUntilWarm: m(name, (x) => x.requestsUntilWarm),
              requestsAfterNotice: m(name, (x) => x.requestsAfterNotice),
              unrelatedAfterNotice: m(name, (x) => x.unrelatedAfterNotice),
              passRequests: m(name, (x) => x.passRequests),
              timeToFreshMs: m(name, (x) => x.timeToFreshMs),
              deliveryMs: m(name, (x) => x.deliveryMs),
              freshAfterDeliveryMs: m(name, (x) => x.freshAfterDeliveryMs),
              roundTripMs: m(name, (x) => x.roundTripMs),
            }
          : null;
      return {
        rows,
        medians: { [OURS]: medians(OURS, samples[OURS]), [BASE]: medians(BASE, samples[BASE]), [NO_WORKER]: medians(NO_WORKER, bare) },
        ratio: rWarm && { requestsUntilWarm: rWarm, timeToFresh: rFresh },
      };
    },
  },
  overlay: {
    title: `overlay: a declared resource's collection (${OVERLAY_WORKLOAD.catalog.items} items) cached; offline, ${OVERLAY_WORKLOAD.few} then ${OVERLAY_WORKLOAD.many} PATCHes to its items queued; ${OVERLAY_WORKLOAD.gets} sequential GETs of the collection at each level, time per GET in the page`,
    run: (subject) => runOverlay(subject),
    progress: (_subject, r) =>
      `GET with ${OVERLAY_WORKLOAD.few} pending ${millis(r.fewMs)}, with ${OVERLAY_WORKLOAD.many} pending ${millis(r.manyMs)} (${r.ratio.toFixed(2)}×); ${r.queued} queued`,
    summarize: (samples) => ({
      rows: metricRows(samples, [
        [`GET, ${OVERLAY_WORKLOAD.few} writes pending`, (x) => x.fewMs, millis],
        [`GET, ${OVERLAY_WORKLOAD.many} writes pending`, (x) => x.manyMs, millis],
        [`${OVERLAY_WORKLOAD.many} ÷ ${OVERLAY_WORKLOAD.few} (same run)`, (x) => x.ratio, (v) => `${v.toFixed(2)}×`],
      ]),
      medians: {},
    }),
  },
  coldstart: {
    title: `coldstart: a cached GET (${COLDSTART_WORKLOAD.url}, cache-first) right after the worker was stopped, ${COLDSTART_WORKLOAD.cold} times per run, and a warm GET after each; time per GET in the page`,
    run: (subject) => runColdStart(subject),
    progress: (_subject, r) => `cold GET median ${millis(r.coldMs)}, warm ${millis(r.warmMs)}`,
    summarize: (samples) => ({
      rows: metricRows(samples, [
        ['cold GET (worker stopped)', (x) => x.coldMs, millis],
        ['warm GET (worker running)', (x) => x.warmMs, millis],
      ]),
      medians: {},
    }),
  },
  heap: {
    title: `heap: offline, ${HEAP_WORKLOAD.writes} writes of ${HEAP_WORKLOAD.bodyBytes} bytes over ${HEAP_WORKLOAD.resources} resources queued; the worker's JS heap (after a full GC) before and after`,
    runs: scaleRuns,
    run: (subject) => runHeap(subject),
    progress: (_subject, r) =>
      `heap ${kb(r.beforeBytes)} → ${kb(r.afterBytes)}: ${r.perWriteKB.toFixed(3)} KB per queued write; ${fixed(r.writesPerSec)} writes/s; ${r.queued} queued`,
    summarize: (samples) => ({
      rows: metricRows(samples, [
        ['heap before', (x) => x.beforeBytes, kb],
        [`heap with ${HEAP_WORKLOAD.writes} more queued`, (x) => x.afterBytes, kb],
        ['heap per queued write', (x) => x.perWriteKB, (v) => `${v.toFixed(3)} KB`],
      ]),
      medians: {},
    }),
  },
  growth: {
    title: `growth: offline, ${GROWTH_WORKLOAD.few} + ${GROWTH_WORKLOAD.writes} writes over ${GROWTH_WORKLOAD.resources} resources (${WORKLOAD.inflight} in flight), status() timed at ${GROWTH_WORKLOAD.few} and at ${GROWTH_WORKLOAD.few + GROWTH_WORKLOAD.writes} queued, then online and replayed (+${WORKLOAD.writeDelayMs} ms per write; offline-outbox only)`,
    runs: scaleRuns,
    run: (subject) => runGrowth(subject, Math.max(replayCapMs, 180_000)),
    progress: (_subject, r) =>
      `${fixed(r.writesPerSec)} writes/s, p50 answer ${tenths(r.latencyP50Ms)}` +
      (r.statusFewMs === null ? '' : `; status() ${millis(r.statusFewMs)} → ${millis(r.statusManyMs)}`) +
      (r.timeToAllMs === undefined ? '' : `; replayed ${r.delivered} in ${seconds(r.timeToAllMs)} (${millis(r.replayMsPerWrite)} per write)`),
    summarize: (samples) => ({
      rows: metricRows(samples, [
        ['writes/s', (x) => x.writesPerSec, (v) => fixed(v)],
        ['p50 answer latency', (x) => x.latencyP50Ms, tenths],
        [`status(), ${GROWTH_WORKLOAD.few} queued`, (x) => x.statusFewMs, millis],
        [`status(), ${GROWTH_WORKLOAD.few + GROWTH_WORKLOAD.writes} queued`, (x) => x.statusManyMs, millis],
        [`time to deliver all ${GROWTH_WORKLOAD.few + GROWTH_WORKLOAD.writes}`, (x) => x.timeToAllMs ?? null, seconds],
        ['replay time per write', (x) => x.replayMsPerWrite ?? null, millis],
      ]),
      medians: {},
    }),
  },
};

// ---------------------------------------------------------------- run

const harnessFailures = [];
const notReady = new Map();

function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of ['sw', 'client', 'common']) walk(join(ROOT, dir));
  return newest;
}

async function writeJsonAtomic(file, data) {
  await mkdir(RESULTS, { recursive: true });
  const tmp = `${file}.tmp`;
  // Arrays of plain values (a delivery, a list of times) on one line each.
  const text = JSON.stringify(data, null, 2).replace(/\[\s*((?:[^[\]{}\s][^[\]{}]*?)?)\s*\]/g, (_, inner) => `[${inner.replace(/\s*\n\s*/g, ' ')}]`);
  await writeFile(tmp, `${text}\n`);
  await rename(tmp, file);
}

console.log(`offline-outbox bench — ${startedAt.toISOString()}`);
console.log(`subjects: ${subjects.join(', ')}; cases: ${cases.join(', ')}; ${runs} run(s) each; replay cap ${seconds(replayCapMs)}`);
console.log(
  `machine: ${machine.cpuCount} × ${machine.cpuModel}, load ${machine.loadAverageAtStart.join(' ')}, node ${machine.node}, playwright-core ${machine.playwrightCore}, workbox ${machine.workbox}\n`,
);

const allRows = [];
/** Each case's samples per subject (and calibration), for the summary. */
const caseSamples = {};

if (summaryOnly) {
  // The summary again from the last run's results/<case>.json: nothing is measured.
  for (const caseName of cases) {
    let saved;
    try {
      saved = JSON.parse(readFileSync(join(RESULTS, `${caseName}.json`), 'utf8'));
    } catch (error) {
      harnessFailures.push(`--summary: no results for ${caseName} (${errorText(error)})`);
      continue;
    }
    caseSamples[caseName] = Object.fromEntries(Object.entries(saved.subjects).flatMap(([name, v]) => (v.samples?.length ? [[name, v.samples]] : [])));
    Object.assign(machine, saved.machine, { loadAverageAtEnd: saved.machine.loadAverageAtEnd });
    summaryDate = saved.date;
    runsOfSaved = saved.config?.runs ?? runsOfSaved;
  }
} else {
  if (subjects.includes(OURS)) {
    if (build) {
      console.log('building offline-outbox (npm run build; BENCH_BUILD=0 skips) …');
      const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
      if (result.status !== 0) notReady.set(OURS, `npm run build failed (status ${result.status})`);
    } else if (process.env.BENCH_DIST) {
      console.log(`offline-outbox from ${DIST_DIR} (BENCH_DIST)`);
    } else {
      try {
        if (statSync(join(DIST_DIR, 'sw.js')).mtimeMs < newestSource())
          console.warn('warning: dist/sw.js is older than sw/, client/ or common/; measuring the old build (drop BENCH_BUILD=0 to rebuild)');
      } catch {
        // A missing dist/sw.js is reported by the probe.
      }
    }
  }

  // Can each subject queue one write at all? A subject that cannot is "not
  // ready": it is skipped, said so, and the run exits non-zero.
  for (const name of subjects) {
    if (notReady.has(name)) continue;
    process.stdout.write(`probe ${name}: one write offline … `);
    try {
      const { chromium } = await probe(SUBJECTS[name]);
      machine.chromium = chromium;
      console.log('queued');
    } catch (error) {
      console.log('NOT READY');
      notReady.set(name, errorText(error));
      if (!(error instanceof NotReadyError)) console.error(error);
    }
  }
  for (const [name, reason] of notReady) {
    console.log(`\n${name} is NOT READY: ${reason}`);
    if (name === OURS) console.log(`  Measure the baseline alone meanwhile: BENCH_SUBJECTS=${BASE} npm run bench`);
    harnessFailures.push(`${name} not ready: ${reason}`);
  }
  const measured = subjects.filter((name) => !notReady.has(name));

  for (const caseName of cases) {
    const spec = CASES[caseName];
    console.log(`\n== ${spec.title}`);
    const calibrations = Object.fromEntries((spec.calibrations ?? (spec.calibration ? [spec.calibration] : [])).map((c) => [c.name, c]));
    const names = calibrate ? [...measured, ...Object.keys(calibrations)] : measured;
    /** @type {Record<string, unknown[]>} */
    const samples = Object.fromEntries(names.map((name) => [name, []]));
    const errors = Object.fromEntries(names.map((name) => [name, []]));
    const caseRuns = spec.runs ?? runs;
    for (let run = 1; run <= caseRuns; run++) {
      // Alternate which subject goes first, so neither always gets the cooler machine.
      const order = run % 2 ? names : [...names].reverse();
      for (const name of order) {
        const subject = SUBJECTS[name];
        const calibration = calibrations[name];
        const label = `${caseName} run ${run}/${caseRuns} ${name}`;
        process.stdout.write(`${label}: `);
        try {
          const result = calibration ? await calibration.run() : await spec.run(subject);
          samples[name].push({ run, ...result });
          const failed = result.checks.filter((c) => !c.ok);
          console.log(
            (calibration ? calibration.progress(result) : spec.progress(subject, result)) +
              (failed.length ? `\n  CHECK FAILED: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}` : ''),
          );
        } catch (error) {
          console.log(`ERROR: ${errorText(error)}`);
          errors[name].push({ run, error: errorText(error) });
          harnessFailures.push(`${label}: ${errorText(error)}`);
        }
      }
    }

    const { rows, medians, ratio: caseRatio } = spec.summarize(Object.fromEntries(Object.entries(samples).filter(([, s]) => s.length)));
    caseSamples[caseName] = samples;
    // Correctness checks: each must hold in every run.
    for (const name of names) {
      const checkNames = [...new Set(samples[name].flatMap((r) => r.checks.map((c) => c.name)))];
      for (const checkName of checkNames) {
        const results = samples[name].map((r) => r.checks.find((c) => c.name === checkName));
        const ok = results.every((c) => c?.ok);
        if (!ok) harnessFailures.push(`${caseName} ${name}: check failed: ${checkName} (${results.map((c) => c?.detail ?? '—').join(', ')})`);
        const details = results.map((c) => c?.detail ?? '—');
        const same = details.length > 1 && details.every((d) => d === details[0]);
        rows.push({
          subject: name,
          metric: checkName,
          median: '',
          samples: same ? `${details[0]} (every run)` : details.join(' | '),
          ratio: '',
          target: 'check: every run',
          verdict: ok ? 'PASS' : 'FAIL',
          kind: 'check',
        });
      }
    }
    for (const name of subjects.filter((n) => notReady.has(n)))
      rows.push({ subject: name, metric: 'not ready', median: '—', samples: '', ratio: '', target: '', verdict: 'n/a', kind: 'info' });
    // One block per subject: ours, workbox, then calibration (a stable sort keeps each block's order).
    const rank = (row) => (row.subject === OURS ? 0 : row.subject === BASE ? 1 : 2);
    rows.sort((a, b) => rank(a) - rank(b));
    rows.forEach((row) => allRows.push({ case: caseName, ...row }));

    machine.loadAverageAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
    const file = join(RESULTS, `${caseName}.json`);
    await writeJsonAtomic(file, {
      case: caseName,
      description: spec.title,
      date: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine,
      config: { runs: caseRuns, subjects, replayCapMs, ...WORKLOAD, replayFloorMs: REPLAY_FLOOR_MS, get: GET_WORKLOAD, notice: NOTICE_WORKLOAD, targets: TARGETS },
      subjects: Object.fromEntries(
        [...subjects, ...(calibrate ? Object.keys(calibrations) : [])].map((name) => [
          name,
          notReady.has(name)
            ? { status: 'not-ready', reason: notReady.get(name) }
            : { status: errors[name].length ? 'errors' : 'measured', errors: errors[name], median: medians[name] ?? null, samples: samples[name] },
        ]),
      ),
      ratioOursOverWorkbox: caseRatio,
      table: rows,
    });
    console.log(`wrote ${file.slice(ROOT.length)}`);
  }
}

// ---------------------------------------------------------------- report

const columns = [
  ['case', 'case'],
  ['subject', 'subject'],
  ['metric', 'metric'],
  ['median', 'median'],
  ['samples', 'runs'],
  ['ratio', 'ours/workbox'],
  ['target', 'target'],
  ['verdict', 'verdict'],
];
const widths = columns.map(([key, head]) => Math.max(head.length, ...allRows.map((r) => String(r[key] ?? '').length)));
const line = (cells) =>
  cells
    .map((c, i) => String(c).padEnd(widths[i]))
    .join('  ')
    .trimEnd();
console.log(`\n${line(columns.map(([, head]) => head))}`);
console.log(line(widths.map((w) => '-'.repeat(w))));
let previousCase = '';
for (const row of allRows) {
  if (previousCase && row.case !== previousCase) console.log('');
  previousCase = row.case;
  const shown = row.sameAsAbove ? { ...row, median: '〃', samples: '', ratio: row.ratio && '〃' } : row;
  console.log(line(columns.map(([key]) => shown[key] ?? '')));
}

const targetRows = allRows.filter((r) => r.kind === 'target');
console.log('\ntargets:');
if (targetRows.length === 0) console.log(`  none evaluated (${OURS} was not measured)`);
for (const r of targetRows)
  console.log(`  ${r.verdict.padEnd(7)} ${r.case}: ${r.subject} ${r.metric} ${r.median}${r.ratio && !r.sameAsAbove ? ` (ours/workbox ${r.ratio})` : ''}; target: ${r.target}`);

// ---------------------------------------------------------------- summary

/**
 * The issue's figures, one row each (bench/README.md, "Summary"): medians
 * over the runs, and a ratio that is, where both sides were measured in the
 * same run, the median of the runs' own ratios (so the machine's drift from
 * one run to the next cancels out).
 */
function summaryRows() {
  const m = (caseName, name, pick) => (caseSamples[caseName] ? medianOf(caseSamples[caseName], name, pick) : null);
  const runsOf = (caseName, name, pick) => (caseSamples[caseName]?.[name] ?? []).map(pick).filter((v) => v !== null && v !== undefined && Number.isFinite(v));
  /** Median over runs of a[run] / b[run] (pickA from case A's subject, pickB from case B's). */
  const paired = ([caseA, nameA, pickA], [caseB, nameB, pickB]) => {
    const a = caseSamples[caseA]?.[nameA] ?? [];
    const b = caseSamples[caseB]?.[nameB] ?? [];
    const ratios = a.flatMap((x) => {
      const y = b.find((other) => other.run === x.run);
      const num = pickA(x);
      const den = y && pickB(y);
      return Number.isFinite(num) && Number.isFinite(den) && den !== 0 ? [num / den] : [];
    });
    return ratios.length ? median(ratios) : null;
  };
  /** A figure of one case: its medians and runs for ours, Workbox and (`ideal`: a calibration's name) the yardstick. */
  const figures = (caseName, pick, ideal) => ({
    ours: m(caseName, OURS, pick),
    workbox: m(caseName, BASE, pick),
    ideal: ideal ? m(caseName, ideal, pick) : null,
    runs: { ours: runsOf(caseName, OURS, pick), workbox: runsOf(caseName, BASE, pick), ...(ideal && { ideal: runsOf(caseName, ideal, pick) }) },
  });
  const row = (spec) => ({ note: '', ...spec, met: verdictOf(spec.ratio, spec.op, spec.limit) });
  const rate = (x) => x.writesPerSec;
  const p50 = (x) => x.sent.latency.p50;
  // A replay cut off at the cap has no time (the ideal replayer's runs have no `complete`: it always completes).
  const replayS = (x) => (x.complete === false ? null : x.timeToAllMs / 1000);
  const fresh = (x) => x.freshAfterDeliveryMs;
  const growthTotal = GROWTH_WORKLOAD.few + GROWTH_WORKLOAD.writes;
  const growthReplay = (x) => (x.complete ? x.replayMsPerWrite : null);
  const rows = [];
  if (caseSamples.enqueue)
    rows.push(
      row({
        case: 'enqueue-rate',
        title: `enqueue ${WORKLOAD.writes} offline POSTs, ${WORKLOAD.inflight} in flight, strict durability`,
        unit: 'writes/s',
        ...figures('enqueue', rate, IDEAL_WORKER),
        ratio: paired(['enqueue', OURS, rate], ['enqueue', IDEAL_WORKER, rate]),
        ratioOf: 'ours ÷ ideal worker',
        op: '>=',
        limit: 0.95,
        target: '≥ 0.95× the ideal worker (answers 202, stores nothing)',
      }),
      row({
        case: 'enqueue-p50',
        title: 'p50 answer latency of those writes',
        unit: 'ms',
        ...figures('enqueue', p50, IDEAL_WORKER),
        ratio: paired(['enqueue', OURS, p50], ['enqueue', BASE, p50]),
        ratioOf: 'ours ÷ workbox',
        op: '<=',
        limit: 1,
        target: "≤ Workbox's",
      }),
    );
  if (caseSamples.replay)
    rows.push(
      row({
        case: 'replay',
        title: `replay ${WORKLOAD.writes} writes over ${WORKLOAD.resources} resources, +${WORKLOAD.writeDelayMs} ms each`,
        unit: 's',
        ...figures('replay', replayS, IDEAL),
        ratio: paired(['replay', OURS, replayS], ['replay', IDEAL, replayS]),
        ratioOf: 'ours ÷ ideal replayer',
        op: '<=',
        limit: 1.05,
        target: '≤ 1.05× the ideal replayer (fetches only, no storage)',
      }),
    );
  if (caseSamples.notice)
    rows.push(
      row({
        case: 'notice',
        title: `one notice, ${NOTICE_ENTRIES} cached entries: time-to-fresh − delivery`,
        unit: 'ms',
        ...figures('notice', fresh, NO_WORKER),
        ratio: paired(['notice', OURS, fresh], ['notice', NO_WORKER, fresh]),
        ratioOf: 'ours ÷ bare conditional read',
        op: '<=',
        limit: 2,
        target: '≤ 2× a bare conditional read (no worker) in the same run',
      }),
    );
  if (caseSamples.overlay) {
    const few = m('overlay', OURS, (x) => x.fewMs);
    rows.push(
      row({
        case: 'overlay',
        title: `GET of a collection with ${OVERLAY_WORKLOAD.many} pending writes`,
        unit: 'ms',
        ...figures('overlay', (x) => x.manyMs),
        ratio: m('overlay', OURS, (x) => x.ratio),
        ratioOf: `ours, ${OVERLAY_WORKLOAD.many} ÷ ${OVERLAY_WORKLOAD.few} pending`,
        op: '<=',
        limit: 2,
        target: `≤ 2× the same GET with ${OVERLAY_WORKLOAD.few} pending`,
        note: few === null ? '' : `with ${OVERLAY_WORKLOAD.few} pending: ${few.toFixed(2)} ms; Workbox shows no pending writes`,
      }),
    );
  }
  if (caseSamples.coldstart)
    rows.push(
      row({
        case: 'cold-start',
        title: 'cold start: worker stopped, then a cached GET',
        unit: 'ms',
        ...figures('coldstart', (x) => x.coldMs),
        ratio: paired(['coldstart', OURS, (x) => x.coldMs], ['coldstart', BASE, (x) => x.coldMs]),
        ratioOf: 'ours ÷ workbox',
        op: '<=',
        limit: 1.2,
        target: "≤ 1.2× Workbox's cold start",
      }),
    );
  if (caseSamples.heap)
    rows.push(
      row({
        case: 'heap',
        title: `worker memory with ${HEAP_WORKLOAD.writes} queued ${HEAP_WORKLOAD.bodyBytes / 1024} KB writes`,
        unit: 'KB/write',
        ...figures('heap', (x) => x.perWriteKB),
        ratio: m('heap', OURS, (x) => x.perWriteKB),
        ratioOf: 'ours, KB of memory per queued write',
        op: '<=',
        limit: 1,
        target: '≤ 1 KB per queued write (bodies stay in IndexedDB)',
      }),
    );
  if (caseSamples.growth)
    rows.push(
      row({
        case: 'growth-enqueue',
        title: `enqueue at ${GROWTH_WORKLOAD.writes} writes over ${GROWTH_WORKLOAD.resources} resources`,
        unit: 'writes/s',
        ...figures('growth', rate),
        ratio: caseSamples.enqueue ? paired(['enqueue', OURS, rate], ['growth', OURS, rate]) : null,
        ratioOf: `ours, ${WORKLOAD.writes}-write rate ÷ ${GROWTH_WORKLOAD.writes}-write rate`,
        op: '<=',
        limit: 1.1,
        target: `rate within 1.1× of the ${WORKLOAD.writes}-write case`,
      }),
      row({
        case: 'growth-replay',
        title: `replay time per write at ${growthTotal} writes`,
        unit: 'ms/write',
        ...figures('growth', growthReplay),
        ratio: caseSamples.replay ? paired(['growth', OURS, growthReplay], ['replay', OURS, (x) => (x.complete ? x.timeToAllMs / WORKLOAD.writes : null)]) : null,
        ratioOf: `ours, ${growthTotal} ÷ ${WORKLOAD.writes} writes`,
        op: '<=',
        limit: 1.1,
        target: `within 1.1× of the ${WORKLOAD.writes}-write case`,
        note: 'Workbox not replayed at this size (one write at a time: minutes per run)',
      }),
      row({
        case: 'growth-status',
        title: `status() with ${growthTotal} entries`,
        unit: 'ms',
        ...figures('growth', (x) => x.statusManyMs),
        ratio: m('growth', OURS, (x) => (x.statusManyMs === null ? null : x.statusManyMs / x.statusFewMs)),
        ratioOf: `ours, ${growthTotal} ÷ ${GROWTH_WORKLOAD.few} entries`,
        op: '<=',
        limit: 2,
        target: `within 2× of status() with ${GROWTH_WORKLOAD.few} entries`,
        note: `with ${GROWTH_WORKLOAD.few}: ${m('growth', OURS, (x) => x.statusFewMs)?.toFixed(2) ?? '—'} ms; Workbox has no status()`,
      }),
    );
  return rows;
}

const summary = summaryRows();
if (summary.length) {
  console.log(`\nsummary (issue 13's figures; bench/results/latest.json, latest.svg):\n${formatSummaryTable(summary)}`);
  if (!summaryOnly) machine.loadAverageAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
  const config = {
    runs: runsOfSaved,
    scaleRuns,
    subjects,
    cases,
    replayCapMs,
    workload: WORKLOAD,
    overlay: OVERLAY_WORKLOAD,
    coldstart: COLDSTART_WORKLOAD,
    heap: HEAP_WORKLOAD,
    growth: GROWTH_WORKLOAD,
  };
  const written = await writeSummary(summary, { dir: RESULTS, date: summaryDate, machine, config });
  console.log(`wrote ${[written.json, written.svg].map((f) => f.slice(ROOT.length)).join(', ')}`);
  if (process.env.BENCH_README === '1') {
    const changed = await updateReadmeSection(join(ROOT, 'README.md'), summaryMarkdown(summary, { date: summaryDate, machine }), 'bench/results/latest.svg');
    console.log(changed ? 'README.md: the benchmark section was updated' : 'README.md: the benchmark section was already current');
  }
}

if (harnessFailures.length) {
  console.log(`\nthe harness could not measure everything (exit 1):\n${harnessFailures.map((f) => `  - ${f}`).join('\n')}`);
  process.exitCode = 1;
} else {
  console.log('\nevery selected subject was measured and every check held (targets do not change the exit status)');
}
