/**
 * What makes two requests "the same request" for one Idempotency-Key: the
 * method, the path and query, and the body. A JSON body counts by its value,
 * not its spelling (key order, whitespace, `1.0` vs `1`), so a client that
 * re-serialises the same object on retry is not told it reused a key for a
 * different request; any other body counts by its bytes.
 */
// A namespace import: `hash` is missing before node 20.12, and a named import of it would fail to load there.
import * as crypto from 'node:crypto';

/** True for `application/json` and `application/<anything>+json`, parameters ignored. */
export const isJsonType = (contentType: string | null | undefined): boolean => /^application\/(?:[\w.!#$%&'*^`|~-]+\+)?json\s*(?:;|$)/i.test((contentType ?? '').trim());

/**
 * JSON with object keys sorted (by UTF-16 code unit, integer-like keys
 * included) and no whitespace; what JSON.stringify would drop (undefined,
 * functions) is dropped, `toJSON` is honoured. Throws, as JSON.stringify
 * does, on cycles and BigInt; undefined when the value has no JSON form.
 */
export function canonicalJson(value: unknown): string | undefined {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : write(JSON.parse(text));
}

/**
 * Canonical JSON of a value JSON.parse made (plain data only: no toJSON, no
 * undefined), written without the round trip canonicalJson needs for values
 * of unknown origin. Loops rather than map/join: this runs on every keyed
 * write, and its garbage is most of what the fingerprint costs.
 */
function write(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + write(value[i]);
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  const names = Object.keys(object).sort();
  let out = '{';
  for (let i = 0; i < names.length; i++) out += `${i ? ',' : ''}${JSON.stringify(names[i])}:${write(object[names[i]!])}`;
  return `${out}}`;
}

/**
 * The body as the middleware found it: bytes it read (or a parser kept), with
 * `json` when it parsed them itself (JSON.parse's value: plain data), or a
 * value a parser left in `req.body`.
 */
export type BodySource = { bytes: Uint8Array; json?: unknown } | { parsed: unknown };

export interface FingerprintInput {
  method: string;
  /** Path and query, as the client sent them (`req.originalUrl` under Express). */
  target: string;
  contentType: string | null | undefined;
  body: BodySource;
}

/**
 * The canonical form the body is hashed in: `json:` + canonical JSON, or
 * `bytes:` + the bytes (as text when they came as text). The prefix keeps a
 * text body that happens to read as JSON apart from a JSON one.
 */
export function bodyFingerprint(contentType: string | null | undefined, body: BodySource): string | Uint8Array {
  const json = isJsonType(contentType);
  if ('bytes' in body) {
    if (json && body.json !== undefined) return `json:${write(body.json)}`;
    if (json && body.bytes.byteLength > 0) {
      try {
        return `json:${write(JSON.parse(Buffer.from(body.bytes).toString('utf8')))}`;
      } catch {
        // Not JSON after all: its bytes are all there is to compare.
      }
    }
    return Buffer.concat([BYTES, body.bytes]);
  }
  const value = body.parsed;
  if (value instanceof Uint8Array) return Buffer.concat([BYTES, value]);
  if (typeof value === 'string' && !json) return `bytes:${value}`;
  if (value === undefined) return 'bytes:';
  return `json:${canonicalJson(value)}`;
}

const BYTES = Buffer.from('bytes:');

/** sha256, base64url, of method, target and the body's canonical form (text is hashed as UTF-8, so both forms agree). */
export function fingerprint({ method, target, contentType, body }: FingerprintInput): string {
  const head = `${method.toUpperCase()} ${target}\n`;
  const canonical = bodyFingerprint(contentType, body);
  // One-shot hashing where node has it (20.12+): several times cheaper than a Hash object, and this runs on every keyed write.
  if (typeof canonical === 'string') return sha256(head + canonical);
  return crypto.createHash('sha256').update(head).update(canonical).digest('base64url');
}

/** sha256 of a string's UTF-8 bytes, base64url. */
const oneShot = (crypto as { hash?: typeof crypto.hash }).hash;
export const sha256: (text: string) => string = oneShot ? (text) => oneShot('sha256', text, 'base64url') : (text) => crypto.createHash('sha256').update(text).digest('base64url');
