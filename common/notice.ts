/**
 * A change notice, the one definition the worker and the server share: it
 * names what changed, never carries the data. `{"resource": "todos", "id":
 * "42", "type": "updated", "version": 17, "cursor": "…"}`.
 *
 * - The worker reads notices from the network (`parseNotice`): one that is
 *   not this shape is ignored, never thrown.
 * - The server checks what an app publishes (`checkNotice`) and says what is
 *   wrong with it; the feed gives the cursor, so a published notice has none.
 */
import { isObject } from './json.js';

export const NOTICE_TYPES = ['created', 'updated', 'deleted'] as const;

export interface Notice {
  resource: string;
  id: string;
  type: (typeof NOTICE_TYPES)[number];
  /** Newer versions compare greater: numbers by value, strings by `>` (UTF-16 code units; code-point order for ASCII versions). */
  version?: number | string;
  /** Where the feed stands after this notice; opaque. */
  cursor?: string;
}

/** What is wrong with a notice an app publishes: the field, and a message saying what it must be. */
export interface NoticeProblem {
  field: string;
  message: string;
}

/** The longest resource name, id or cursor. */
const MAX_NAME = 1024;
/** The longest string version. */
const MAX_VERSION = 256;
/** The fields a notice may have. */
const FIELDS = ['resource', 'id', 'type', 'version', 'cursor'];

const text = (v: unknown, max = MAX_NAME): v is string => typeof v === 'string' && v !== '' && v.length <= max;

// C0, DEL and C1 controls: no id or URL segment needs them, and a log line or header should never get them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// A lone surrogate cannot be percent-encoded (encodeURIComponent throws), so
// an id or cursor holding one could never be put in a URL: every batch or
// catch-up that met it would fail, again and again.
const encodable = (v: string): boolean => !/\p{Cs}/u.test(v);

/** A resource name: it is matched against the manifest's names, and appears in logs. */
const name = (v: unknown): v is string => text(v) && !CONTROL.test(v) && encodable(v);

/**
 * An id becomes one path segment of the item URL (issue 9, defect 19): `.`
 * and `..` would be normalised away by the URL parser and name another
 * resource, and a `/` or `\` (which URLs read as `/`) would reach outside
 * the item pattern.
 */
const segment = (v: unknown): boolean => Number.isSafeInteger(v) || (name(v) && v !== '.' && v !== '..' && !/[/\\]/.test(v));

/**
 * A version the worker may remember as the item's last seen: a string, or a
 * whole number a later one can exceed. A forged 1e308 or Infinity would make
 * every genuine version look old forever (defect 19); fractions and negatives
 * are not what a server counter sends.
 */
const version = (v: unknown): boolean => text(v, MAX_VERSION) || (Number.isSafeInteger(v) && (v as number) >= 0);

/** What each field must be, as `parseNotice` and `checkNotice` both read it (in the order problems are reported). */
const RULES = {
  resource: name,
  id: segment,
  type: (v: unknown) => NOTICE_TYPES.includes(v as Notice['type']),
  version: (v: unknown) => v === undefined || version(v),
} as const;

/** The notice in `value`, or undefined when it is not one (`known`: the resources it may name). */
export function parseNotice(value: unknown, known: (name: string) => boolean): Notice | undefined {
  if (!isObject(value)) return undefined;
  const { resource, id, type, version: at, cursor } = value;
  if (!RULES.resource(resource) || !known(resource) || !RULES.id(id) || !RULES.type(type) || !RULES.version(at)) return undefined;
  if (cursor !== undefined && !(text(cursor) && encodable(cursor))) return undefined;
  return { resource, id: String(id), type: type as Notice['type'], version: at as Notice['version'], cursor: cursor as string | undefined };
}

// What follows is the server's (publish): the worker's bundle leaves it out.

/** What each field must be, said to the app that published it wrong. */
const EXPECTED: Record<keyof typeof RULES, string> = {
  resource: `resource must be a non-empty name (at most ${MAX_NAME} characters, no control characters)`,
  id: `id must be a safe integer or a non-empty string of at most ${MAX_NAME} characters that is not "." or ".." and has no "/", "\\" or control characters (it becomes one segment of the item URL)`,
  type: `type must be one of ${NOTICE_TYPES.join(', ')}`,
  version: `version must be a non-negative safe integer or a non-empty string of at most ${MAX_VERSION} characters`,
};

/** A value as a message shows it: JSON, cut short. */
function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  let json: string | undefined;
  try {
    json = JSON.stringify(v);
  } catch {}
  if (json === undefined) return typeof v;
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/**
 * The first problem of a notice an app publishes, or undefined when it is
 * one. The feed gives the cursor, so there must be none; nor any other
 * field (a notice names what changed, never its data).
 */
export function checkNotice(value: unknown): NoticeProblem | undefined {
  if (!isObject(value)) return { field: 'notice', message: `a notice must be an object {resource, id, type, version?}; got ${Array.isArray(value) ? 'an array' : shown(value)}` };
  for (const [field, ok] of Object.entries(RULES) as [keyof typeof RULES, (v: unknown) => boolean][])
    if (!ok(value[field])) return { field, message: `${EXPECTED[field]}; got ${shown(value[field])}` };
  if (value.cursor !== undefined) return { field: 'cursor', message: `cursor must be absent: the feed assigns it (publish resolves with it); got ${shown(value.cursor)}` };
  const extra = Object.keys(value).find((key) => !FIELDS.includes(key));
  if (extra !== undefined)
    return { field: extra, message: `${shown(extra)} is not a notice field (resource, id, type, version): a notice names what changed and never carries its data` };
  return undefined;
}

/** Whether `version` is newer than `seen` (anything is newer than nothing; a number and a string never compare, so both count as new). */
export const isNewer = (version: Notice['version'], seen: Notice['version']): boolean =>
  version === undefined || seen === undefined || typeof version !== typeof seen || version > seen;
