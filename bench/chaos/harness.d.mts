/** Types for `harness.mjs`, so the TypeScript end-to-end test can import it. */

/** What the harness needs of a browser: a session of test/support/browsers. */
export interface ChaosPage {
  goto(url: string): Promise<void>;
  reload(): Promise<void>;
  evaluate<T = unknown>(fn: string | ((...args: never[]) => unknown), ...args: unknown[]): Promise<T>;
  close(): Promise<void>;
}
export interface ChaosSession {
  readonly version: string;
  newPage(): Promise<ChaosPage>;
  stopServiceWorkers(): Promise<void>;
  setOffline?(offline: boolean): Promise<void>;
  close(): Promise<void>;
}

export type Subject = 'offline-outbox' | 'workbox';

export interface ChaosOptions {
  /** A fresh browser (fresh profile) for this run. */
  launch: () => Promise<ChaosSession>;
  engine: 'chromium' | 'firefox' | 'webkit' | string;
  subject: Subject;
  /** The server honours Idempotency-Key (a repeated key is not applied again), or ignores it. */
  idempotent: boolean;
  /** Same seed, same schedule, latencies and 503s. */
  seed: string;
  /** Writes in all (a multiple of `ops`). @default 1000 */
  writes?: number;
  /** Ordered ops per item. @default 10 */
  ops?: number;
  /** The page's limit of fetches in flight. @default 20 */
  inflight?: number;
  /** Worker kills (Chromium only). @default 5 */
  kills?: number;
  /** Page reloads. @default 3 */
  reloads?: number;
  /** How long the chaos lasts. @default max(12 s, writes × 60 ms) */
  durationMs?: number;
  /** After the chaos: online until drained, or this long. @default 180000 */
  drainCapMs?: number;
  /** Stop draining once nothing has changed for this long with the page done. @default 20000 for Workbox, never for offline-outbox */
  stallMs?: number;
  /** Also take Chromium offline with context.setOffline (see README: unreliable across worker restarts). @default false */
  setOffline?: boolean;
  log?: (line: string) => void;
}

export interface PageAttempt {
  /** Page instance (one per load). */
  i: string;
  /** Started, settled (ms since epoch). */
  t: number;
  d: number | null;
  o: 'ack' | 'fail' | 'int' | null;
  s: number | null;
  e: string | null;
}

export interface ChaosResult {
  engine: string;
  version: string;
  subject: Subject;
  mode: 'idempotent' | 'non-idempotent';
  seed: string;
  writes: number;
  items: number;
  ops: number;
  durationMs: number;
  drainCapMs: number;
  stallMs: number | null;
  offlineBy: string;
  schedule: { at: number; type: 'offline' | 'online' | 'kill' | 'reload' }[];
  /** Writes the page got a 2xx/202 for. */
  acknowledged: number;
  /** Distinct writes the server applied. */
  applied: number;
  /** Acknowledged, never applied. */
  lost: number;
  /** Extra applications of a write that the page's own re-sends do not explain. */
  duplicates: number;
  /** Extra applications explained by the page re-sending a write whose outcome it never learned (reload, its timeout). */
  appResends: number;
  /** Applications of a seq after a higher seq of the same item. */
  orderViolations: number;
  itemsOutOfOrder: number;
  /** Left in the queue at the end: offline-outbox pending + in flight + conflicts + auth; Workbox's IndexedDB requests. */
  stuck: number | null;
  /** offline-outbox's dead entries at the end (Workbox: null). */
  dead: number | null;
  /** From online-for-good to the last write request, when drained; null when not drained. */
  drainMs: number | null;
  /** Most requests the server saw for one write within 1 s. */
  spin: number;
  spinWrite: string | null;
  /** The requests of that write in its worst 1 s. */
  spinDetail: { at: number; key: string | null; outcome: string }[] | null;
  /** The same, per Idempotency-Key. */
  spinPerKey: number;
  /** Attempts the page was told failed (another status, a rejected fetch, its own timeout). */
  appFailures: number;
  appTimeouts: number;
  failureKinds: Record<string, number>;
  appliedUnacked: number;
  interrupted: number;
  pageAttempts: number;
  maxInFlight: number;
  pageDoneAt: number | null;
  server: {
    writeRequests: number;
    applied: number;
    status503: number;
    replayedByKey: number;
    bad: number;
    unanswered: number;
    withoutKey: number;
    distinctKeys: number;
    idempotent: boolean;
  };
  lostList: { item: number; seq: number; attempts: PageAttempt[] }[];
  duplicateList: { item: number; seq: number; applied: { at: number; key: string | null }[]; requests: unknown[]; attempts: PageAttempt[] }[];
  orderList: { item: number; seq: number; at: number; afterSeq: number; key: string | null }[];
  drained: boolean;
  stalled: boolean;
  pageLoadFailures: number;
  finalQueue: unknown;
  leftovers: unknown[] | null;
  timeline: { at: number; type: string; detail?: unknown }[];
  progress: unknown[];
  loads: unknown[];
  requestsLog: unknown[];
  pageRecords: { item: number; seq: number; attempts: PageAttempt[] }[];
  startedAt: number;
}

export declare const CHAOS_MANIFEST: object;
export declare const DEFAULTS: Required<Pick<ChaosOptions, 'writes' | 'ops' | 'inflight' | 'kills' | 'reloads' | 'drainCapMs'>> & {
  failRate: number;
  latencyMs: [number, number];
  flapMinMs: number;
  flapMaxMs: number;
  retryMs: number;
  fetchTimeoutMs: number;
};
export declare function chaosDurationMs(writes: number): number;
export declare function runChaos(options: ChaosOptions): Promise<ChaosResult>;
/** One row per result; a result may also be `{ engine, subject, mode, writes, error }`. */
export declare function formatTable(results: (ChaosResult | { engine: string; subject: string; mode: string; writes: number; error: string })[]): string;
/** What offline-outbox missed of its targets in a run ([] for Workbox, or when met). */
export declare function missedTargets(result: ChaosResult): string[];
/** One line per duplicate, order violation and lost write of a result (for reports). */
export declare function describeAnomalies(result: ChaosResult): string[];
