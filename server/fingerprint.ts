/**
 * What makes two requests "the same request" for one Idempotency-Key: the
 * method, the path and query, and the body. A JSON body counts by its value,
 * not its spelling (key order, whitespace, `1.0` vs `1`), so a client that
 * re-serialises the same object on retry is not told it reused a key for a
 * different request; any other body counts by its bytes.
 */
import { createHash } from 'node:crypto';

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

function write(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(write).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const object = value as Record<string, unknown>;
  return `{${Object.keys(object)
    .sort()
    .map((name) => `${JSON.stringify(name)}:${write(object[name])}`)
    .join(',')}}`;
}

/** The body as the middleware found it: bytes it read (or a parser kept), or a value a parser left in `req.body`. */
export type BodySource = { bytes: Uint8Array } | { parsed: unknown };

export interface FingerprintInput {
  method: string;
  /** Path and query, as the client sent them (`req.originalUrl` under Express). */
  target: string;
  contentType: string | null | undefined;
  body: BodySource;
}

/**
 * The canonical form the body is hashed in: `json:` + canonical JSON, or
 * `bytes:` + the bytes. The prefix keeps a text body that happens to read as
 * JSON apart from a JSON one.
 */
export function bodyFingerprint(contentType: string | null | undefined, body: BodySource): Uint8Array {
  const json = isJsonType(contentType);
  if ('bytes' in body) {
    if (json && body.bytes.byteLength > 0) {
      try {
        return utf8(`json:${canonicalJson(JSON.parse(Buffer.from(body.bytes).toString('utf8')))}`);
      } catch {
        // Not JSON after all: its bytes are all there is to compare.
      }
    }
    return concat(utf8('bytes:'), body.bytes);
  }
  const value = body.parsed;
  if (value instanceof Uint8Array) return concat(utf8('bytes:'), value);
  if (typeof value === 'string' && !json) return utf8(`bytes:${value}`);
  if (value === undefined) return utf8('bytes:');
  return utf8(`json:${canonicalJson(value)}`);
}

/** sha256, base64url, of method, target and the body's canonical form. */
export function fingerprint({ method, target, contentType, body }: FingerprintInput): string {
  return createHash('sha256').update(`${method.toUpperCase()} ${target}\n`).update(bodyFingerprint(contentType, body)).digest('base64url');
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');
const concat = (a: Uint8Array, b: Uint8Array) => Buffer.concat([a, b]);
