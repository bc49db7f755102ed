#!/usr/bin/env node
/**
 * `npm run bench -- server` (or `node bench/server/run.mjs`): what
 * `offline-outbox/server` costs a Node backend, measured on the built
 * `dist/server.mjs`. See bench/README.md, "The server bench".
 *
 *   BENCH_RUNS=3               repetitions of every case, interleaved (medians reported)
 *   BENCH_DURATION_S=5         measured seconds of each throughput trial
 *   BENCH_WARMUP_S=2           warm-up seconds before them (not counted)
 *   BENCH_CONNECTIONS=32       keep-alive connections of the load generator
 *   BENCH_CLIENT=raw           the load generator's HTTP client: raw (lean, raw-client.mjs) or http (node:http Agent)
 *   BENCH_FANOUT_CLIENTS=1000  SSE clients in the fan-out case, half on each instance
 *   BENCH_PUBLISHES=50         notices published per fan-out trial (and per single-client trial)
 *   BENCH_PUBLISH_GAP_MS=50    pause after each notice has reached every client
 *   BENCH_PIN=0                do not pin the server and the load generator to a CPU each
 *   BENCH_BUILD=0              do not run `npm run build` first
 *   BENCH_DIST=path            measure the server.mjs of another build directory (nothing is built)
 *
 * Exit status: 0 when every case was measured and every check held, whether
 * or not the targets were met (the numbers are the result); 1 when something
 * could not be measured (the reason is printed).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { canPin, canRaiseLimit, openFilesLimit, startRedis, stopAll } from './processes.mjs';
import { format, median, printTable, writeJsonAtomic } from './report.mjs';
import { fanoutTrial, SUBJECTS, throughputTrial } from './trials.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIST = join(process.env.BENCH_DIST ? resolve(process.env.BENCH_DIST) : join(ROOT, 'dist'), 'server.mjs');
const RESULT_FILE = join(ROOT, 'bench/results/server.json');
/** Least share of the bare handler's requests/s each subject must keep. */
const TARGETS = { memory: 0.9, 'memory-replay': 1, redis: 0.65, 'redis-replay': 1 };
/** Open files the fan-out's client process needs beyond one per stream. */
const SPARE_FILES = 256;

function positive(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`bench server: ${name}=${raw}: expected a positive number`);
    process.exit(1);
  }
  return n;
}

function choice(name, allowed) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return allowed[0];
  if (!allowed.includes(raw)) {
    console.error(`bench server: ${name}=${raw}: expected one of ${allowed.join(', ')}`);
    process.exit(1);
  }
  return raw;
}

const config = {
  runs: Math.round(positive('BENCH_RUNS', 3)),
  durationMs: positive('BENCH_DURATION_S', 5) * 1000,
  warmupMs: positive('BENCH_WARMUP_S', 2) * 1000,
  connections: Math.round(positive('BENCH_CONNECTIONS', 32)),
  client: choice('BENCH_CLIENT', ['raw', 'http']),
  clients: Math.round(positive('BENCH_FANOUT_CLIENTS', 1000)),
  publishes: Math.round(positive('BENCH_PUBLISHES', 50)),
  gapMs: positive('BENCH_PUBLISH_GAP_MS', 50),
  pin: process.env.BENCH_PIN !== '0' && cpus().length >= 2 && canPin(),
};
const build = process.env.BENCH_BUILD !== '0' && !process.env.BENCH_DIST;
const packageVersion = (name) => {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
};
const round2 = (l) => Math.round(l * 100) / 100;
const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  loadAverageAtStart: loadavg().map(round2),
  loadAverageAtEnd: null,
  node: process.version,
  redisServer: 'not started',
  nodeRedis: packageVersion('redis'),
};
/** What could not be measured, and why: any entry makes the exit status 1. */
const unmeasured = [];
/** What makes a figure less trustworthy without making it unmeasured. */
const warnings = [];
/** Above this share of its CPU the load process, not the server, may be what sets the pace. */
const LOAD_SATURATED = 0.85;
const errorText = (error) => (error instanceof Error ? error.message : String(error));

process.on('SIGINT', () => (stopAll(), process.exit(130)));
process.on('SIGTERM', () => (stopAll(), process.exit(143)));

const startedAt = new Date();
console.log(`offline-outbox server bench — ${startedAt.toISOString()}`);
console.log(
  `${config.runs} run(s); throughput: ${config.connections} connections (${config.client} client), ${config.warmupMs / 1000} s warm-up + ${config.durationMs / 1000} s; ` +
    `fan-out: ${config.clients} SSE clients, ${config.publishes} publishes; ${config.pin ? 'server on CPU 0, load on CPU 1' : 'not pinned'}`,
);
console.log(`machine: ${machine.cpus} × ${machine.cpuModel}, load ${machine.loadAverageAtStart.join(' ')}, node ${machine.node}\n`);

async function main() {
  if (build) {
    console.log('building (npm run build; BENCH_BUILD=0 skips) …');
    const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (result.status !== 0) return void unmeasured.push(`everything: npm run build failed (status ${result.status}); fix the build, or BENCH_BUILD=0 to measure the last one`);
  }
  if (!existsSync(DIST)) return void unmeasured.push(`everything: ${DIST} is missing; run npm run build`);
  let lib;
  try {
    lib = await import(pathToFileURL(DIST).href);
  } catch (error) {
    return void unmeasured.push(`everything: ${DIST} does not load: ${errorText(error)}`);
  }
  const lacking = ['idempotency', 'memoryStore', 'redisStore', 'changeFeed'].filter((name) => typeof lib[name] !== 'function');
  if (lacking.length) unmeasured.push(`${DIST} lacks ${lacking.join(', ')}; the cases that need it are skipped`);

  let redis = null;
  try {
    redis = await startRedis();
    machine.redisServer = redis.version;
  } catch (error) {
    unmeasured.push(`the Redis cases: ${errorText(error)}`);
  }
  try {
    const needs = (s) => (s.server === 'bare' ? [] : s.server === 'memory' ? ['idempotency', 'memoryStore'] : ['idempotency', 'redisStore']);
    const subjects = SUBJECTS.filter((s) => !needs(s).some((n) => lacking.includes(n)) && (s.server !== 'redis' || redis));
    const samples = await measureThroughput(subjects, redis);
    const fanout = lacking.some((n) => n === 'changeFeed' || n === 'redisStore') || !redis ? [] : await measureFanout(redis);
    return { samples, fanout };
  } finally {
    await redis?.stop();
  }
}

async function measureThroughput(subjects, redis) {
  const samples = Object.fromEntries(SUBJECTS.map((s) => [s.name, []]));
  for (let run = 1; run <= config.runs; run++) {
    // Alternate the order, so no subject always gets the cooler machine.
    for (const subject of run % 2 ? subjects : [...subjects].reverse()) {
      const label = `throughput run ${run}/${config.runs} ${subject.name}`;
      process.stdout.write(`${label}: `);
      try {
        const r = await throughputTrial(subject, { dist: DIST, redis, ...config });
        samples[subject.name].push({ run, ...r });
        console.log(
          `${format['req/s'](r.requestsPerSecond)}, p50 ${format.ms(r.p50Ms)}, p99 ${format.ms(r.p99Ms)}, server CPU ${format['%'](r.serverCpu)}, load CPU ${format['%'](r.loadCpu)}` +
            (r.failures.length ? `\n  CHECK FAILED: ${r.failures.join('; ')}` : ''),
        );
        for (const f of r.failures) unmeasured.push(`${label}: ${f}`);
        if (r.loadCpu > LOAD_SATURATED)
          warnings.push(
            `${label}: the load process used ${format['%'](r.loadCpu)} of its CPU; it may have set the pace instead of the server (fewer BENCH_CONNECTIONS, BENCH_CLIENT=raw)`,
          );
      } catch (error) {
        console.log(`ERROR: ${errorText(error)}`);
        samples[subject.name].push({ run, error: errorText(error) });
        unmeasured.push(`${label}: ${errorText(error)}`);
      }
    }
  }
  return samples;
}

async function measureFanout(redis) {
  const limit = openFilesLimit();
  const needed = config.clients + SPARE_FILES;
  let openFiles;
  if (limit.soft < needed) {
    if (limit.hard < needed || !canRaiseLimit()) {
      unmeasured.push(`fan-out: ${config.clients} streams need ${needed} open files; the limit is ${limit.soft} (hard ${limit.hard}): raise it (ulimit -n ${needed})`);
      return [];
    }
    openFiles = needed;
  }
  const trials = [];
  for (let run = 1; run <= config.runs; run++) {
    const label = `fan-out run ${run}/${config.runs}`;
    process.stdout.write(`${label}: `);
    try {
      const r = await fanoutTrial({ dist: DIST, redis, openFiles, ...config });
      trials.push({ run, ...r });
      console.log(
        `single client ${format.ms(r.singleMedianMs)}; last of ${config.clients} ${format.ms(r.lastClientMedianMs)} (p99 ${format.ms(r.lastClientP99Ms)}); ` +
          `per client ${format.ms(r.perClientMedianMs)} (p99 ${format.ms(r.perClientP99Ms)})` +
          (r.failures.length ? `\n  CHECK FAILED: ${r.failures.join('; ')}` : ''),
      );
      for (const f of r.failures) unmeasured.push(`${label}: ${f}`);
    } catch (error) {
      console.log(`ERROR: ${errorText(error)}`);
      trials.push({ run, error: errorText(error) });
      unmeasured.push(`${label}: ${errorText(error)}`);
    }
  }
  return trials;
}

/** @returns {import('./report.mjs').Row[]} */
function rows({ samples, fanout }) {
  const out = [];
  const pick = (list, key) => list.map((s) => s[key] ?? null);
  const bare = samples.bare ?? [];
  for (const subject of SUBJECTS) {
    const list = samples[subject.name];
    const rps = pick(list, 'requestsPerSecond');
    const base = median(pick(bare, 'requestsPerSecond'));
    const target = TARGETS[subject.name];
    // Each run's subject over the bare handler of the same run: the machine's drift between runs cancels out.
    const ratioRuns = target
      ? list.map((s) => bare.find((b) => b.run === s.run && b.requestsPerSecond)?.requestsPerSecond ?? null).map((b, i) => (b && rps[i] ? rps[i] / b : null))
      : undefined;
    const ratio = ratioRuns ? median(ratioRuns) : null;
    const c = `throughput: ${subject.title}`;
    out.push({
      case: c,
      metric: 'requests/s',
      value: median(rps),
      unit: 'req/s',
      runs: rps,
      baseline: target ? base : null,
      ratio,
      ratioRuns,
      target: target ? `≥ ${target.toFixed(2)} × bare` : null,
      met: target ? (ratio === null ? null : ratio >= target) : null,
    });
    for (const [metric, key, unit] of [
      ['p50 latency', 'p50Ms', 'ms'],
      ['p99 latency', 'p99Ms', 'ms'],
      ['server CPU per request', 'serverCpuPerRequestUs', 'µs'],
      ['server process CPU', 'serverCpu', '%'],
      ['load process CPU', 'loadCpu', '%'],
    ]) {
      const value = median(pick(list, key));
      // CPU per request beside the bare handler's: the middleware's cost even when the load process set the pace.
      const baseline = key === 'serverCpuPerRequestUs' && subject.name !== 'bare' ? median(pick(bare, key)) : null;
      out.push({ case: c, metric, value, unit, runs: pick(list, key), baseline, ratio: baseline && value ? value / baseline : null, target: null, met: null });
    }
  }
  const c = `fan-out: ${config.clients.toLocaleString('en-US')} SSE clients on 2 instances, publish on A`;
  const single = median(pick(fanout, 'singleMedianMs'));
  for (const [metric, key, beside] of [
    ['single client (on B): delivery, median', 'singleMedianMs', false],
    ['single client (on B): delivery, p99', 'singleP99Ms', false],
    ['time to the last client, median', 'lastClientMedianMs', true],
    ['time to the last client, p99', 'lastClientP99Ms', true],
    ['per-client delivery, median', 'perClientMedianMs', true],
    ['per-client delivery, p99', 'perClientP99Ms', true],
    ['per-client delivery on A, median', 'onAMedianMs', true],
    ['per-client delivery on B, median', 'onBMedianMs', true],
  ]) {
    const value = median(pick(fanout, key));
    // Shown as a multiple of the single client's median delivery, with no threshold.
    out.push({
      case: c,
      metric,
      value,
      unit: 'ms',
      runs: pick(fanout, key),
      baseline: beside ? single : null,
      ratio: beside && value && single ? value / single : null,
      target: null,
      met: null,
    });
  }
  return out;
}

const measured = await main().catch((error) => {
  unmeasured.push(`the harness: ${error?.stack ?? error}`);
  return null;
});
stopAll();
machine.loadAverageAtEnd = loadavg().map(round2);
if (measured) {
  const table = rows(measured);
  printTable(table);
  await writeJsonAtomic(RESULT_FILE, {
    date: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine,
    config,
    targets: TARGETS,
    cases: table,
    trials: measured,
    unmeasured,
    warnings,
  });
  console.log(`\nwrote ${RESULT_FILE.slice(ROOT.length)}`);
}
if (warnings.length) console.log(`\nwarnings:\n${warnings.map((w) => `  - ${w}`).join('\n')}`);
if (unmeasured.length) console.log(`\nsomething could not be measured (exit 1):\n${unmeasured.map((f) => `  - ${f}`).join('\n')}`);
else console.log('\neverything was measured and every check held (targets do not change the exit status)');
// The imported library may hold timers of its own; the run is over.
process.exit(unmeasured.length ? 1 : 0);
