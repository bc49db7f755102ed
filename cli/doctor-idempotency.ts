/**
 * Whether the server says it honours Idempotency-Key: offline-outbox/server's
 * idempotency() adds `Idempotency-Key-Supported: ?1` to every answer it
 * passes. Doctor looks for it on an OPTIONS to the first queued route and on
 * every answer it already has; it never sends a write. Not seeing it proves
 * nothing (another server may honour keys silently), hence `unknown`.
 */
import type { Manifest } from '../sw/manifest/types.js';
import { compilePattern } from '../sw/manifest/pattern.js';
import { SUPPORTED, SUPPORTED_HEADER } from '../common/idempotency-supported.js';
import { type Finding, finding, YOUR_SERVER } from './doctor-finding.js';
import { type Prober, shownUrl } from './doctor-probe.js';

const exact = (path: string): boolean => {
  const pattern = compilePattern(path);
  return typeof pattern !== 'string' && pattern.names.length === 0;
};

/** The URL of the first queued route: its own path when exact, else its resource's collection. */
export function queuedUrl(manifest: Manifest, page: URL): URL | undefined {
  for (const route of manifest.routes) {
    if (!(route.methods ?? ['GET']).some((m) => m !== 'GET')) continue;
    const origin = route.origin ?? page.origin;
    if (exact(route.match)) return new URL(route.match, origin);
    const collection = route.resource ? manifest.resources?.[route.resource]?.collection : undefined;
    if (collection && exact(collection)) return new URL(collection, origin);
  }
  return undefined;
}

export async function idempotencyFindings(prober: Prober, manifest: Manifest, page: URL): Promise<Finding[]> {
  const url = queuedUrl(manifest, page);
  if (!url && !manifest.routes.some((r) => (r.methods ?? ['GET']).some((m) => m !== 'GET'))) return [];
  // A plain OPTIONS, not a CORS preflight, which a CORS middleware answers before the app's own.
  if (url) await prober.request(url, { method: 'OPTIONS' });
  const subject = url ? shownUrl(url, page.origin) : 'queued routes';
  const saying = prober.answers.find((a) => a.headers.get(SUPPORTED_HEADER)?.trim() === SUPPORTED);
  if (saying) return [finding('idempotency', subject, 'ok', `Idempotency-Key-Supported: ?1 on ${saying.method} ${shownUrl(saying.url, page.origin)}: a replay is applied once`)];
  return [
    finding(
      'idempotency',
      subject,
      'unknown',
      'the server does not say it honours Idempotency-Key: a replay after a lost answer may apply a write twice',
      `${YOUR_SERVER} (offline-outbox/server's idempotency())`,
    ),
  ];
}
