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

export const tooLarge = (request: Request, bytes: number, max: number): Response =>
  json(413, {
    error: 'body-too-large',
    message: `${request.method} ${request.url} could not be sent and was not queued: its body is ${bytes} bytes, over the route's maxBodyBytes (${max}); send it again when online`,
  });

export const storageFull = (request: Request): Response =>
  json(507, {
    error: 'storage-full',
    message: `${request.method} ${request.url} could not be sent and the browser's storage is full, so it was not queued; writes queued before it are kept. Free some space or send it again when online`,
  });
