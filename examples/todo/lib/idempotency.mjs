/**
 * Idempotency-Key, as the IETF httpapi draft describes it
 * (draft-ietf-httpapi-idempotency-key-header). The key is a Structured Field
 * String: `Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"`. The first
 * request with a key is processed, and its answer (status, the headers that
 * matter, body) is kept with a fingerprint of the request (method, path and
 * query, body bytes) for KEY_LIFETIME_MS. Then:
 *   - the same key and fingerprint again: the kept answer, nothing applied
 *     again (header `Idempotent-Replayed: true`);
 *   - the same key with a different request: 422;
 *   - the same key while its first request is still being processed: 409,
 *     with `Retry-After: 1` (retry it unchanged);
 *   - a key that is not a quoted string of 1-255 characters: 400.
 * Errors are kept like successes (the draft: "the result of the previously
 * completed operation, success or an error"), except 5xx. Keys are global:
 * this example has no users to scope them by.
 */
import { createHash } from 'node:crypto';

export const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000; // 24 hours
export const MAX_KEY_LENGTH = 255; // characters
const KEPT_HEADERS = ['content-type', 'etag', 'location'];
const DRAFT = 'https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/';
// RFC 8941 §3.3.3: printable ASCII, with `"` and `\` escaped by a backslash.
const SF_STRING = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/;

/** The key, undefined when the header is absent, null when it is malformed. */
export function parseKey(header) {
  if (header === undefined) return undefined;
  const match = SF_STRING.exec(header.trim());
  if (!match) return null;
  const key = match[1].replace(/\\(["\\])/g, '$1');
  return key.length >= 1 && key.length <= MAX_KEY_LENGTH ? key : null;
}

/** `target` is the path and query. */
export const fingerprint = (method, target, body) => createHash('sha256').update(`${method} ${target}\n`).update(body).digest('base64url');

// RFC 9457 problem details, shaped as in the draft's examples.
const problem = (status, title, detail, headers = {}) => ({
  status,
  headers: { 'content-type': 'application/problem+json', 'content-language': 'en', ...headers },
  body: JSON.stringify({ type: DRAFT, title, status, detail }),
});

export const malformedKey = () =>
  problem(400, 'Idempotency-Key is malformed', `Send it as a quoted string of 1 to ${MAX_KEY_LENGTH} characters, e.g. Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324".`);
export const keyInFlight = () =>
  problem(409, 'A request is outstanding for this Idempotency-Key', 'A request with the same Idempotency-Key is still being processed; retry this one unchanged in a moment.', {
    'retry-after': '1',
  });
export const keyReused = () => problem(422, 'Idempotency-Key is already used', 'This key was sent with a different request (method, path or body). A new request needs a new key.');

/** The kept answer, marked as a replay. */
export const replayOf = (record) => ({ ...record.reply, headers: { ...record.reply.headers, 'idempotent-replayed': 'true' } });

/** `saved` is what `toJSON()` gave before. */
export function createIdempotencyKeys(saved = [], clock = Date.now) {
  const records = new Map(saved.map((record) => [record.key, record]));
  // Only in memory: a restart ends every request that was being processed.
  const processing = new Set();
  const expired = (record) => clock() - Date.parse(record.storedAt) >= KEY_LIFETIME_MS;

  const keys = {
    /** Marks the key as being processed; false when it already is (answer 409). */
    begin(key) {
      if (processing.has(key)) return false;
      processing.add(key);
      return true;
    },
    end(key) {
      processing.delete(key);
    },
    /** The kept record `{ key, fingerprint, storedAt, reply }` for a key, unless expired. */
    find(key) {
      const record = records.get(key);
      if (record && expired(record)) records.delete(key);
      return records.get(key);
    },
    remember(key, print, reply) {
      if (reply.status >= 500) return;
      const headers = Object.fromEntries(KEPT_HEADERS.filter((name) => reply.headers[name] !== undefined).map((name) => [name, reply.headers[name]]));
      records.set(key, { key, fingerprint: print, storedAt: new Date(clock()).toISOString(), reply: { status: reply.status, headers, body: reply.body } });
    },
    prune() {
      for (const [key, record] of records) if (expired(record)) records.delete(key);
    },
    toJSON() {
      keys.prune();
      return [...records.values()];
    },
  };
  return keys;
}
