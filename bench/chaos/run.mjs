/**
 * `npm run chaos`: the chaos suite, offline-outbox beside plain Workbox, per
 * server mode, per engine, in one run; prints the table and writes
 * bench/results/chaos.json. See bench/chaos/README.md.
 *
 *   CHAOS_WRITES=1000  CHAOS_ENGINES=chromium,firefox,webkit  CHAOS_SEED=…
 *   CHAOS_SUBJECTS=offline-outbox,workbox  CHAOS_MODES=idempotent,non-idempotent
 *   CHAOS_BUILD=0 (skip npm run build)  CHAOS_LOG_DIR=dir (every request and page record, per run)
 *   CHAOS_OUT=file (instead of bench/results/chaos.json)
 *
 * The engines are test/support/browsers (TypeScript), loaded through Vite's
 * module runner (Vite comes with Vitest), so the bench drives exactly the
 * browsers the end-to-end tests drive.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULTS, describeAnomalies, formatTable, missedTargets, runChaos } from './harness.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const list = (value, fallback) =>
  value
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : fallback;
const seed = process.env.CHAOS_SEED || `chaos-${Date.now().toString(36)}`;
const writes = Number(process.env.CHAOS_WRITES || DEFAULTS.writes);
const engineNames = list(process.env.CHAOS_ENGINES, ['chromium', 'firefox', 'webkit']);
const subjects = list(process.env.CHAOS_SUBJECTS, ['offline-outbox', 'workbox']);
const modes = list(process.env.CHAOS_MODES, ['idempotent', 'non-idempotent']);
const out = process.env.CHAOS_OUT || join(root, 'bench/results/chaos.json');
const logDir = process.env.CHAOS_LOG_DIR;

if (!Number.isInteger(writes) || writes <= 0 || writes % DEFAULTS.ops !== 0) {
  console.error(`CHAOS_WRITES must be a positive multiple of ${DEFAULTS.ops} (items × ${DEFAULTS.ops} ordered ops); got ${process.env.CHAOS_WRITES}`);
  process.exit(2);
}
for (const m of modes) if (!['idempotent', 'non-idempotent'].includes(m)) throw new Error(`CHAOS_MODES: unknown mode ${m}`);

if (subjects.includes('offline-outbox') && process.env.CHAOS_BUILD !== '0' && !process.env.BENCH_DIST) {
  console.log('building offline-outbox (npm run build)…');
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const { runnerImport } = await import('vite');
const { module: browsers } = await runnerImport(join(root, 'test/support/browsers/index.ts'), { configFile: false, logLevel: 'error' });
const engines = engineNames.map((name) => {
  const engine = browsers.engines.find((e) => e.name === name);
  if (!engine) throw new Error(`CHAOS_ENGINES: unknown engine ${name}`);
  return engine;
});

console.log(`chaos: seed ${seed}, ${writes} writes, engines ${engineNames.join(', ')}, subjects ${subjects.join(', ')}, server modes ${modes.join(', ')}`);
const started = Date.now();
const results = [];
for (const engine of engines) {
  const missing = browsers.missingFor(engine);
  if (missing) {
    console.warn(`*** ${engine.name}: ${missing}: skipped`);
    for (const subject of subjects) for (const mode of modes) results.push({ engine: engine.name, subject, mode, writes, seed, error: `not run: ${missing}` });
    continue;
  }
  for (const subject of subjects) {
    for (const mode of modes) {
      const t = Date.now();
      let result;
      try {
        result = await runChaos({
          launch: () => engine.launch(),
          engine: engine.name,
          subject,
          idempotent: mode === 'idempotent',
          seed,
          writes,
          setOffline: process.env.CHAOS_SET_OFFLINE === '1',
          log: (line) => console.log(line),
        });
      } catch (error) {
        result = { engine: engine.name, subject, mode, writes, seed, error: error instanceof Error ? error.message : String(error) };
      }
      result.runMs = Date.now() - t;
      const { requestsLog, pageRecords, ...kept } = result;
      if (logDir && requestsLog) {
        await mkdir(logDir, { recursive: true });
        const base = join(logDir, `${seed}-${engine.name}-${subject}-${mode}`);
        await writeFile(`${base}.requests.ndjson`, `${requestsLog.map((e) => JSON.stringify(e)).join('\n')}\n`);
        await writeFile(`${base}.page.ndjson`, `${pageRecords.map((e) => JSON.stringify(e)).join('\n')}\n`);
      }
      results.push(kept);
      console.log(`[${engine.name} ${subject} ${mode}] ${describe(kept)} (${((Date.now() - t) / 1000).toFixed(0)} s)`);
    }
  }
}

function describe(r) {
  if (r.error) return `ERROR: ${r.error}`;
  const missed = missedTargets(r);
  return `acked ${r.acknowledged}, applied ${r.applied}, lost ${r.lost}, dup ${r.duplicates}, order ${r.orderViolations}, stuck ${r.stuck ?? '—'}, dead ${r.dead ?? '—'}, spin ${r.spin}, app failures ${r.appFailures}${missed.length ? `; MISSED: ${missed.join(', ')}` : ''}`;
}

console.log(
  `\nChaos, seed ${seed}: ${writes} writes (${writes / DEFAULTS.ops} items × ${DEFAULTS.ops} ordered ops, ≤ ${DEFAULTS.inflight} in flight), 20 % of write requests answered 503, 5–30 ms latency,`,
);
console.log(
  `offline flaps every 1.5–4 s, ${DEFAULTS.kills} worker kills (chromium only), ${DEFAULTS.reloads} page reloads; then online until drained or ${DEFAULTS.drainCapMs / 60_000} min.\n`,
);
console.log(formatTable(results));
for (const r of results.filter((r) => r.subject === 'offline-outbox' && !r.error)) {
  const lines = describeAnomalies(r);
  if (lines.length) console.log(`\n${r.engine} offline-outbox, ${r.mode} server:\n  ${lines.join('\n  ')}`);
}

const missed = results.flatMap((r) => missedTargets(r).map((m) => `${r.engine} ${r.mode}: ${m}`));
const summary = {
  when: new Date().toISOString(),
  seed,
  writes,
  engines: engineNames,
  subjects,
  modes,
  loadavg: loadavg(),
  totalMs: Date.now() - started,
  targets: { met: missed.length === 0, missed },
  results,
};
await mkdir(join(out, '..'), { recursive: true });
await writeFile(out, `${JSON.stringify(summary, null, 1)}\n`);
console.log(
  `\n${missed.length ? `offline-outbox MISSED its targets:\n  ${missed.join('\n  ')}` : 'offline-outbox met its targets (lost 0, order 0, duplicates 0 with the idempotent server, nothing stuck).'}`,
);
console.log(`results: ${out}${existsSync(out) ? '' : ' (not written?)'}; total ${((Date.now() - started) / 1000).toFixed(0)} s`);
// Targets missed are a finding, not a harness failure; a run that could not be made is.
process.exit(results.some((r) => r.error) ? 1 : 0);
