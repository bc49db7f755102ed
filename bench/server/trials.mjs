/**
 * One trial of each case of the server bench, with its checks: a fresh
 * server process (or two instances) per trial, a load process beside it,
 * and what each saw.
 */
import { fileURLToPath } from 'node:url';
import { nextMessage, startChild, stop } from './processes.mjs';
import { median, quantile } from './report.mjs';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const APP = here('./app.mjs');
const LOAD = here('./load.mjs');
const FEED_APP = here('./feed-app.mjs');
const FANOUT = here('./fanout.mjs');
/** Beyond warm-up and duration: starting the load process, the in-flight requests, the report. */
const LOAD_SLACK_MS = 30_000;
/** Per publish: its delivery timeout, plus connecting the streams. */
const FANOUT_MS_PER_PUBLISH = 11_000;
const FANOUT_SLACK_MS = 60_000;

/** The throughput subjects, in table order. `server`: what runs in front of the handler; `keys`: what the load sends. */
export const SUBJECTS = [
  { name: 'bare', server: 'bare', keys: 'none', title: 'bare handler' },
  { name: 'memory', server: 'memory', keys: 'fresh', title: 'idempotency + memoryStore, fresh key per request' },
  { name: 'memory-replay', server: 'memory', keys: 'replay', title: 'idempotency + memoryStore, replay of a stored key' },
  { name: 'redis', server: 'redis', keys: 'fresh', title: 'idempotency + redisStore, fresh key per request' },
  { name: 'redis-replay', server: 'redis', keys: 'replay', title: 'idempotency + redisStore, replay of a stored key' },
];

/** `name: detail` for each check that failed. */
const failed = (checks) => checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);

/**
 * One throughput trial: server and load generator each pinned to a CPU
 * when `pin` (server on 0, load on 1).
 */
export async function throughputTrial(subject, { dist, redis, connections, warmupMs, durationMs, pin, client }) {
  if (subject.server === 'redis') redis.flush();
  const { child: server, ready } = await startChild(APP, [subject.server, dist, redis?.url ?? ''], { cpu: pin ? 0 : undefined });
  let result;
  let load;
  try {
    ({ child: load } = await startChild(LOAD, [JSON.stringify({ port: ready.port, connections, warmupMs, durationMs, keys: subject.keys, client })], {
      cpu: pin ? 1 : undefined,
    }));
    result = await nextMessage(load, 'result', warmupMs + durationMs + LOAD_SLACK_MS);
  } finally {
    if (load) await stop(load);
    await stop(server);
  }
  const statuses = Object.entries(result.statuses)
    .map(([s, n]) => `${n} × ${s}`)
    .join(', ');
  const checks = [
    { name: 'requests measured', ok: result.requests > 0, detail: `${result.requests}` },
    { name: 'no connection errors', ok: result.errors === 0, detail: result.errors ? `${result.errors}, last: ${result.lastError}` : 'none' },
    { name: 'every answer 201', ok: result.requests > 0 && result.statuses[201] === result.requests, detail: statuses || 'none' },
  ];
  if (subject.keys === 'replay') {
    checks.push(
      { name: 'first request ran the handler', ok: result.first?.status === 201 && !result.first.replayed, detail: JSON.stringify(result.first) },
      { name: 'every measured answer replayed', ok: result.replayed === result.requests, detail: `${result.replayed} of ${result.requests}` },
      { name: 'handler not run while replaying', ok: result.handlerRuns === 0, detail: `${result.handlerRuns} runs` },
    );
  } else {
    checks.push({ name: 'no answer replayed', ok: result.replayed === 0, detail: `${result.replayed} replayed` });
  }
  return { ...result, failures: failed(checks) };
}

/**
 * One fan-out trial: two instances on one Redis, the client process beside
 * them (not pinned: three processes and Redis share the CPUs).
 */
export async function fanoutTrial({ dist, redis, clients, publishes, gapMs, openFiles }) {
  redis.flush();
  const instances = [];
  try {
    for (let i = 0; i < 2; i++) instances.push(await startChild(FEED_APP, [dist, redis.url], { openFiles }));
    const [a, b] = instances.map((i) => i.ready.port);
    const { child } = await startChild(FANOUT, [JSON.stringify({ a, b, clients, publishes, gapMs })], { openFiles });
    instances.push({ child });
    const result = await nextMessage(child, 'result', 2 * publishes * FANOUT_MS_PER_PUBLISH + FANOUT_SLACK_MS);
    return summarizeFanout(result, clients);
  } finally {
    for (const { child } of instances.reverse()) await stop(child);
  }
}

function summarizeFanout({ single, fanout, onB }, clients) {
  const singleTimes = single.rounds.map((r) => r[0]);
  const lastClient = fanout.rounds.map((r) => (r.includes(null) ? null : Math.max(...r)));
  const perClient = fanout.rounds.flat();
  const lost = fanout.rounds.reduce((n, r) => n + r.filter((t) => t === null).length, 0);
  const lostSingle = singleTimes.filter((t) => t === null).length;
  const perInstance = (wantB) => fanout.rounds.flatMap((r) => r.filter((_, i) => onB[i] === wantB));
  const checks = [
    { name: 'single client got every notice', ok: lostSingle === 0, detail: `${lostSingle} of ${singleTimes.length} missing` },
    { name: 'every client got every notice', ok: lost === 0, detail: `${lost} of ${perClient.length} deliveries missing (${clients} clients)` },
    {
      name: 'each event carried the notice published',
      ok: single.mismatched.length + fanout.mismatched.length === 0,
      detail: JSON.stringify([...single.mismatched, ...fanout.mismatched].slice(0, 2)),
    },
  ];
  return {
    singleMedianMs: median(singleTimes),
    singleP99Ms: quantile(singleTimes, 0.99),
    lastClientMedianMs: median(lastClient),
    lastClientP99Ms: quantile(lastClient, 0.99),
    perClientMedianMs: median(perClient),
    perClientP99Ms: quantile(perClient, 0.99),
    onAMedianMs: median(perInstance(false)),
    onBMedianMs: median(perInstance(true)),
    raw: { single: singleTimes, lastClient },
    failures: failed(checks),
  };
}
