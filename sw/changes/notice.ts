/**
 * A change notice, as the server broadcasts it: it names what changed, never
 * carries the data. `{"resource": "todos", "id": "42", "type": "updated",
 * "version": 17, "cursor": "…"}`. Notices are data from the network: each is
 * checked, and one that is not this shape is ignored, never thrown.
 */
import { isObject } from '../shared/json.js';

export interface Notice {
  resource: string;
  id: string;
  type: 'created' | 'updated' | 'deleted';
  /** Newer versions compare greater: numbers by value, strings by `>` (UTF-16 code units; code-point order for ASCII versions). */
  version?: number | string;
  /** Where the feed stands after this notice; opaque. */
  cursor?: string;
}

const TYPES = ['created', 'updated', 'deleted'];
const text = (v: unknown, max = 1024): v is string => typeof v === 'string' && v !== '' && v.length <= max;

// C0, DEL and C1 controls: no id or URL segment needs them, and a log line or header should never get them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// A lone surrogate cannot be percent-encoded (encodeURIComponent throws), so
// an id or cursor holding one could never be put in a URL: every batch or
// catch-up that met it would fail, again and again.
const encodable = (v: string): boolean => !/\p{Cs}/u.test(v);

/**
 * An id becomes one path segment of the item URL (issue 9, defect 19): `.`
 * and `..` would be normalised away by the URL parser and name another
 * resource, and a `/` or `\` (which URLs read as `/`) would reach outside
 * the item pattern.
 */
const segment = (v: unknown): boolean => Number.isSafeInteger(v) || (text(v) && v !== '.' && v !== '..' && !/[/\\]/.test(v) && !CONTROL.test(v) && encodable(v));

/**
 * A version the worker may remember as the item's last seen: a string, or a
 * whole number a later one can exceed. A forged 1e308 or Infinity would make
 * every genuine version look old forever (defect 19); fractions and negatives
 * are not what a server counter sends.
 */
const version = (v: unknown): boolean => text(v, 256) || (Number.isSafeInteger(v) && (v as number) >= 0);

/** The notice in `value`, or undefined when it is not one (`known`: the resources it may name). */
export function parseNotice(value: unknown, known: (name: string) => boolean): Notice | undefined {
  if (!isObject(value)) return undefined;
  const { resource, id, type, version: at, cursor } = value;
  if (!text(resource) || !known(resource) || !segment(id) || !TYPES.includes(type as string)) return undefined;
  if (at !== undefined && !version(at)) return undefined;
  if (cursor !== undefined && !(text(cursor) && encodable(cursor))) return undefined;
  return { resource, id: String(id), type: type as Notice['type'], version: at as Notice['version'], cursor: cursor as string | undefined };
}

/** Whether `version` is newer than `seen` (anything is newer than nothing; a number and a string never compare, so both count as new). */
export const isNewer = (version: Notice['version'], seen: Notice['version']): boolean =>
  version === undefined || seen === undefined || typeof version !== typeof seen || version > seen;
