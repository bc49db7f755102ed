/**
 * The chaos suite, short (bench/chaos/README.md): 200 writes (20 items × 10
 * ordered ops) per run, in each engine, on the suite's own server (5–30 ms
 * latency, a seeded 20 % of writes answered 503), while the network flaps
 * every 1.5–4 s (server unplugged), the worker is killed 5 times (Chromium),
 * and the page is reloaded 3 times; then online until drained (or 3 min).
 *
 * offline-outbox runs against both server modes and must lose nothing,
 * reorder nothing, leave nothing in its queue, and, against the server that
 * honours Idempotency-Key, apply nothing twice. Plain Workbox runs once per
 * engine beside it: its figures are printed, not asserted.
 *
 * CHAOS_SEED=… replays a run's schedule (the seed is printed with every result).
 */
import { describe, expect, it } from 'vitest';
import { describeAnomalies, formatTable, runChaos, type ChaosResult, type Subject } from '../../bench/chaos/harness.mjs';
import { selectedEngines, skipEngine } from '../support/browsers/index.js';

const SEED = process.env.CHAOS_SEED || 'ci-1';
const WRITES = 200;
/** Setup, 12 s of chaos, at most 3 min of draining, reading the results. */
const RUN_TIMEOUT_MS = 300_000;

function report(result: ChaosResult): string {
  const anomalies = describeAnomalies(result);
  const extra = [
    `seed ${result.seed}; ${result.engine} ${result.version}; offline = ${result.offlineBy}`,
    `app failures ${result.appFailures} ${JSON.stringify(result.failureKinds)}, app re-sends ${result.appResends} (after a reload or the page's 20 s timeout), page timeouts ${result.appTimeouts}`,
    `server: ${JSON.stringify(result.server)}`,
    `final queue: ${JSON.stringify(result.finalQueue)}`,
    ...(result.leftovers?.length ? [`left in the outbox (first ${Math.min(5, result.leftovers.length)}): ${JSON.stringify(result.leftovers.slice(0, 5))}`] : []),
    ...anomalies,
  ];
  return `${formatTable([result])}\n${extra.join('\n')}`;
}

async function run(engine: ReturnType<typeof selectedEngines>[number], subject: Subject, idempotent: boolean): Promise<ChaosResult> {
  const result = await runChaos({
    launch: () => engine.launch(),
    engine: engine.name,
    subject,
    idempotent,
    seed: SEED,
    writes: WRITES,
    stallMs: subject === 'workbox' ? 8_000 : undefined,
  });
  console.log(`\nchaos, ${engine.name}, ${subject}, ${idempotent ? 'idempotent' : 'non-idempotent'} server:\n${report(result)}`);
  return result;
}

describe.each(selectedEngines())('chaos in $name', (engine) => {
  describe.skipIf(skipEngine(engine))(engine.name, () => {
    it(
      'offline-outbox, server honouring Idempotency-Key: nothing lost, reordered, applied twice or left in the queue',
      async () => {
        const r = await run(engine, 'offline-outbox', true);
        // Every write acknowledged: otherwise "nothing lost" says nothing.
        expect({ seed: SEED, acknowledged: r.acknowledged, lost: r.lost, orderViolations: r.orderViolations, duplicates: r.duplicates, stuck: r.stuck, dead: r.dead }).toEqual({
          seed: SEED,
          acknowledged: WRITES,
          lost: 0,
          orderViolations: 0,
          duplicates: 0,
          stuck: 0,
          dead: 0,
        });
      },
      RUN_TIMEOUT_MS,
    );

    it(
      'offline-outbox, server ignoring Idempotency-Key: nothing lost, reordered or left in the queue',
      async () => {
        const r = await run(engine, 'offline-outbox', false);
        // Duplicates are printed, not asserted: a server that ignores the key applies a resent write again.
        expect({ seed: SEED, acknowledged: r.acknowledged, lost: r.lost, orderViolations: r.orderViolations, stuck: r.stuck, dead: r.dead }).toEqual({
          seed: SEED,
          acknowledged: WRITES,
          lost: 0,
          orderViolations: 0,
          stuck: 0,
          dead: 0,
        });
      },
      RUN_TIMEOUT_MS,
    );

    it(
      'plain Workbox beside it (printed, not asserted)',
      async () => {
        const r = await run(engine, 'workbox', true);
        // Only that the run happened: the page wrote, the server saw its writes.
        expect(r.pageAttempts).toBeGreaterThanOrEqual(WRITES);
        expect(r.server.writeRequests).toBeGreaterThan(0);
      },
      RUN_TIMEOUT_MS,
    );
  });
});
