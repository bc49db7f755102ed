/**
 * `offline-outbox doctor <url>`: probes a running app against its manifest
 * and says, per finding, what it saw and how to fix it. What `check` cannot
 * see from the manifest alone, and what a browser does not say: a page
 * served `no-store`, a worker whose scope misses the page, a server without
 * ETags, keys or a feed (issue 12). It reads; it never sends a write.
 */
import { compileRoutes } from '../sw/routing/route-table.js';
import { type Finding, finding } from './doctor-finding.js';
import { feedFindings } from './doctor-feed.js';
import { idempotencyFindings } from './doctor-idempotency.js';
import { loadManifest } from './doctor-manifest.js';
import { findRegisterTag, place, tagFinding } from './doctor-page.js';
import { createProber } from './doctor-probe.js';
import type { DoctorReport } from './doctor-report.js';
import { resourceFindings } from './doctor-resources.js';
import { pageFindings, routeFindings } from './doctor-routes.js';
import { checkWorker, originFinding } from './doctor-worker.js';

export interface DoctorOptions {
  /** The page to start from. */
  url: URL;
  /** A local manifest instead of the one the worker would fetch. */
  manifest?: string;
  /** The worker's URL, instead of what the page's register.js tag says. */
  sw?: string;
  /** Each request's deadline. @default 5000 */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_SECONDS = 5;
/** Longer than any proxy or dev server needs to answer a page; past it, a typo rather than patience. */
const MAX_TIMEOUT_SECONDS = 600;

/** The options from the command line, or a message saying which argument is wrong. */
export function doctorOptions(positionals: string[], values: { manifest?: string; sw?: string; timeout?: string }): DoctorOptions | string {
  if (positionals.length !== 1) return `expected the app's URL, as in offline-outbox doctor http://localhost:5173/; got ${positionals.length} arguments`;
  let url: URL;
  try {
    url = new URL(positionals[0]!);
  } catch {
    return `${JSON.stringify(positionals[0])} is not a URL; give the page's full URL, as in http://localhost:5173/`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.href}: expected an http: or https: URL`;
  let timeoutMs = DEFAULT_TIMEOUT_SECONDS * 1000;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!(values.timeout.trim() !== '' && seconds > 0 && seconds <= MAX_TIMEOUT_SECONDS))
      return `--timeout: expected a number of seconds, more than 0 and at most ${MAX_TIMEOUT_SECONDS}; got ${JSON.stringify(values.timeout)}`;
    timeoutMs = seconds * 1000;
  }
  return { url, manifest: values.manifest, sw: values.sw, timeoutMs };
}

const report = (url: URL, manifest: string | null, findings: Finding[]): DoctorReport => ({
  url: url.href,
  manifest,
  findings,
  blockers: findings.filter((f) => f.verdict === 'blocker').length,
});

export async function doctor(options: DoctorOptions): Promise<DoctorReport> {
  const { url: page } = options;
  const prober = createProber(options.timeoutMs ?? DEFAULT_TIMEOUT_SECONDS * 1000);
  const probed = await prober.request(page, { headers: { accept: 'text/html' } });
  // Nothing else can answer either: one row that says so, rather than a row per check.
  if (!probed.ok)
    return report(page, options.manifest ?? null, [
      finding('page', page.href, 'blocker', `no answer: ${probed.error}`, 'start the app, or check the URL (scheme, host and port) and run doctor again'),
    ]);
  const { answer } = probed;
  const html = /html/i.test(answer.headers.get('content-type') ?? 'text/html') ? answer.body : '';
  const placement = place(page, findRegisterTag(html, page), options.sw);

  const [workerRows, loaded] = await Promise.all([checkWorker(prober, page, placement), loadManifest(prober, page, placement, options.manifest)]);
  const head = [tagFinding(page, placement), originFinding(page), ...workerRows, loaded.finding];
  const { manifest } = loaded;
  if (!manifest) return report(page, loaded.where, head);

  // The worker never routes its own manifest; a manifest read from a file is not served.
  const table = compileRoutes(manifest, page.origin, options.manifest === undefined ? [placement.manifest.href] : []);
  const [routes, resources, feed] = await Promise.all([routeFindings(prober, table, page), resourceFindings(prober, manifest, table, page), feedFindings(prober, manifest, page)]);
  // Last: it looks at every answer the others got too.
  const idempotency = await idempotencyFindings(prober, manifest, page);
  return report(page, loaded.where, [...head, ...pageFindings(answer, table), ...routes, ...resources, ...feed, ...idempotency]);
}
