#!/usr/bin/env node
/**
 * Where a worker's time goes: runs the bench's enqueue or replay workload
 * (bench/README.md, "The cases") with V8's sampling profiler attached to
 * offline-outbox's service worker, and prints the self time of the busiest
 * functions, and how much of the wall time the worker's thread was idle.
 * A tool for finding what to make faster, not a measurement: the profiler
 * slows the worker down.
 *
 *   node bench/profile.mjs enqueue|replay [top=25]
 *
 * It profiles the build in BENCH_DIST (default dist/). Names are only
 * readable in an unminified build: build one with terser left out of
 * rollup.config.mjs into another folder and point BENCH_DIST at it.
 */
import { performance } from 'node:perf_hooks';
import { openTrial, WORKLOAD } from './lib/cases.mjs';
import { withWorker } from './lib/devtools.mjs';
import { SUBJECTS } from './lib/subjects.mjs';
import { withTimeout } from './lib/util.mjs';

const [what = 'enqueue', topArg = '25'] = process.argv.slice(2);
if (!['enqueue', 'replay'].includes(what)) {
  console.error('usage: node bench/profile.mjs enqueue|replay [top]');
  process.exit(2);
}
const top = Number(topArg);
const subject = SUBJECTS['offline-outbox'];

const trial = await openTrial(subject);
try {
  const { page, context, server } = trial;
  const send = () =>
    page.evaluate((args) => window.bench.sendWrites(args), { total: WORKLOAD.writes, inflight: WORKLOAD.inflight, resources: WORKLOAD.resources, timeoutMs: 120_000 });
  await context.setOffline(true);
  if (what === 'replay') await send();
  const { profile, wallMs, detail } = await withWorker(
    page,
    async (worker) => {
      await worker.send('Profiler.enable');
      await worker.send('Profiler.setSamplingInterval', { interval: 200 });
      await worker.send('Profiler.start');
      const started = performance.now();
      let detail;
      if (what === 'enqueue') {
        const sent = await send();
        detail = `${sent.accepted202WithId} answered 202 in ${sent.elapsedMs.toFixed(0)} ms`;
      } else {
        await context.setOffline(false);
        await page.evaluate(() => window.bench.syncNow());
        const done = await server.waitForAnswered(WORKLOAD.writes, 120_000);
        detail = `${server.answeredCount()} delivered${done ? '' : ' (cut off at 120 s)'}`;
      }
      const wall = performance.now() - started;
      const { profile: p } = await worker.send('Profiler.stop');
      return { profile: p, wallMs: wall, detail };
    },
    { timeoutMs: 300_000 },
  );

  // Self time per node, from the samples' time deltas, summed per function (name and place).
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  profile.samples.forEach((id, i) => {
    const { callFrame } = byId.get(id);
    const place = callFrame.url ? `${callFrame.url.split('/').pop()}:${callFrame.lineNumber + 1}` : '';
    const key = `${callFrame.functionName || '(anonymous)'} ${place}`.trim();
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  if (process.env.PROFILE_DEBUG) {
    const parent = new Map();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    const anon = new Map();
    profile.samples.forEach((id, i) => {
      const { callFrame } = byId.get(id);
      if (process.env.PROFILE_DEBUG === '1' ? callFrame.functionName || callFrame.url : callFrame.functionName !== process.env.PROFILE_DEBUG) return;
      const up = byId.get(parent.get(id));
      const k = `${callFrame.scriptId} <- ${up?.callFrame.functionName} ${up?.callFrame.url?.split('/').pop()}:${up?.callFrame.lineNumber}`;
      anon.set(k, (anon.get(k) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
    });
    console.log([...anon].sort((a, b) => b[1] - a[1]).slice(0, 10));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = self.get('(idle)') ?? 0;
  console.log(`${what}: ${detail}; wall ${wallMs.toFixed(0)} ms; sampled ${total.toFixed(0)} ms, of which idle ${idle.toFixed(0)} ms (${((idle / total) * 100).toFixed(0)} %)`);
  console.log('self ms   share  function');
  for (const [key, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${ms.toFixed(1).padStart(8)}  ${((ms / (total - idle)) * 100).toFixed(1).padStart(5)} %  ${key}`);
} finally {
  await withTimeout(trial.close(), 60_000, 'closing the trial');
}
