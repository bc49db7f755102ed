/** What the page gets back for a write the worker handled itself. */
import type { OutboxEntry } from './entry.js';

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

/**
 * Queued durably: `202` for fetch/XHR, with the item as it now is locally for
 * a declared resource (`representation`; null for a DELETE: no body), else
 * `{queued, id}`. A form post (a navigation) goes back where it came from.
 */
export function accepted(entry: OutboxEntry, request: Request, fallbackUrl: string, representation?: unknown): Response {
  if (request.mode === 'navigate') return Response.redirect(request.referrer || fallbackUrl, 303);
  const headers = { 'x-outbox-queued': entry.id };
  if (representation === null) return new Response(null, { status: 202, headers });
  return json(202, representation ?? { queued: true, id: entry.id }, headers);
}

/** The network failed a write that cannot be queued: 413 (body over maxBodyBytes) or 507 (storage full); what is queued stays. */
export const notQueued = (request: Request, status: 413 | 507, why: string): Response =>
  json(status, { error: status === 413 ? 'body-too-large' : 'storage-full', message: `${request.method} ${request.url} failed and was not queued: ${why}` });
