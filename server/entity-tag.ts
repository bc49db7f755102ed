/**
 * Entity tags (RFC 9110 §8.8.3): making a strong one, reading the lists
 * If-Match and If-None-Match carry, and the two comparisons (§8.8.3.2).
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './fingerprint.js';

/** Bytes of sha256 kept in a tag: 160 bits, 27 base64url characters; collisions stay out of reach at any realistic number of versions. */
const TAG_BYTES = 20; // bytes

/**
 * A strong ETag for a representation: `"` + base64url(sha256(bytes))[:27] + `"`.
 * A string counts by its UTF-8 bytes, a Buffer/Uint8Array by its bytes, any
 * other value by its canonical JSON (object keys sorted), so the same data
 * gets the same tag on every instance and after every restart.
 */
export function strongEtag(value: unknown): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value instanceof Uint8Array ? value : Buffer.from(jsonOf(value), 'utf8');
  return `"${createHash('sha256').update(bytes).digest().subarray(0, TAG_BYTES).toString('base64url')}"`;
}

function jsonOf(value: unknown): string {
  const json = canonicalJson(value);
  if (json !== undefined) return json;
  throw Object.assign(new TypeError(`strongEtag(value): a ${typeof value} has no JSON form; pass the representation as a string, its bytes, or a JSON value.`), {
    code: 'invalid-etag-value',
  });
}

export interface EntityTag {
  weak: boolean;
  /** Between the quotes. */
  opaque: string;
}

// RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text. A comma may sit inside the quotes.
const TAG = /^\s*(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)/;

/** The tags of an If-Match / If-None-Match value: '*', a list, or undefined when it is absent or unreadable (nothing matches it). */
export function parseEntityTags(field: string | readonly string[] | null | undefined): '*' | EntityTag[] | undefined {
  if (field == null) return undefined;
  const text = typeof field === 'string' ? field : field.join(', ');
  if (text.trim() === '*') return '*';
  const tags: EntityTag[] = [];
  let rest = text;
  while (rest.trim() !== '') {
    // Empty list elements (`"a", , "b"`) are allowed by RFC 9110 §5.6.1.
    const empty = /^\s*,/.exec(rest);
    if (empty) {
      rest = rest.slice(empty[0].length);
      continue;
    }
    const match = TAG.exec(rest);
    if (!match) return tags.length > 0 ? tags : undefined;
    tags.push({ weak: match[1] !== undefined, opaque: match[2]! });
    rest = rest.slice(match[0].length);
  }
  return tags;
}

/** One tag as a header value. */
export const parseEntityTag = (value: string): EntityTag | undefined => {
  const tags = parseEntityTags(value);
  return Array.isArray(tags) && tags.length === 1 ? tags[0] : undefined;
};

/** Strong comparison: both strong, same opaque tag (If-Match). */
export const strongMatch = (a: EntityTag, b: EntityTag): boolean => !a.weak && !b.weak && a.opaque === b.opaque;

/** Weak comparison: same opaque tag, weak or not (If-None-Match). */
export const weakMatch = (a: EntityTag, b: EntityTag): boolean => a.opaque === b.opaque;
