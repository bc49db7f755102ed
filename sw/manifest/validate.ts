/**
 * The manifest validator. It ships inside the worker, so it is a handful of
 * small checkers rather than a schema library; it reports every problem, each
 * located by the field's path, with what was expected and what was found.
 */
import { compilePattern } from './pattern.js';
import type { Manifest, ManifestIssue, ValidationResult } from './types.js';

type Issues = ManifestIssue[];
/** Checks `value` at `path`, recording issues; returns whether it passed. */
type Check = (value: unknown, path: string, issues: Issues) => boolean;
/** A field's checker and, when the field is required, how to add it. */
type Field = [Check, required?: string];

const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'];
const METHODS = ['GET', ...WRITE_METHODS];
const STRATEGIES = ['network-first', 'stale-while-revalidate', 'cache-first', 'network-only'];

function show(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 60 ? `${text.slice(0, 57)}…` : text;
  }
  return 'an object';
}

const issue = (issues: Issues, path: string, code: ManifestIssue['code'], message: string): false => {
  issues.push({ path, code, message });
  return false;
};

const expected = (issues: Issues, path: string, what: string, value: unknown, code: ManifestIssue['code'] = 'wrong-type') =>
  issue(issues, path, code, `expected ${what}; got ${show(value)}`);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const str: Check = (v, p, is) => (typeof v === 'string' && v !== '') || expected(is, p, 'a non-empty string', v);
const bool: Check = (v, p, is) => typeof v === 'boolean' || expected(is, p, 'true or false', v);

const int =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (v, p, is) =>
    (Number.isInteger(v) && (v as number) >= min && (v as number) <= max) ||
    expected(is, p, max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer ${min}-${max}`, v, typeof v === 'number' ? 'bad-value' : 'wrong-type');

const seconds: Check = (v, p, is) =>
  (typeof v === 'number' && v > 0 && Number.isFinite(v)) ||
  expected(is, p, 'a number of seconds > 0', v, typeof v === 'number' ? 'bad-value' : 'wrong-type');

const oneOf =
  (values: readonly (string | number)[], also?: [string, Check]): Check =>
  (v, p, is) => {
    if (values.includes(v as string)) return true;
    if (also && also[1](v, p, [])) return true;
    const list = values.join(', ');
    return expected(is, p, `one of ${also ? `${list} or ${also[0]}` : list}`, v, 'bad-value');
  };

const pattern: Check = (v, p, is) => {
  if (!str(v, p, is)) return false;
  const compiled = compilePattern(v as string);
  return typeof compiled !== 'string' || issue(is, p, 'bad-value', compiled);
};

/** A same-origin path such as "/api/changes"; the page resolves it against its origin. */
const path: Check = (v, p, is) =>
  (typeof v === 'string' && v.startsWith('/') && !v.startsWith('//')) || expected(is, p, 'a same-origin path starting with "/"', v);

const origin: Check = (v, p, is) => {
  let ok = false;
  try {
    ok = typeof v === 'string' && /^https?:$/.test(new URL(v).protocol) && new URL(v).origin === v;
  } catch {}
  return ok || expected(is, p, 'an origin such as "https://api.example.com" (scheme, host and port; no path or trailing "/")', v, 'bad-value');
};

// 206 cannot be stored (the Cache API refuses partial responses); 0 is an opaque response.
const statuses: Check = list((v, p, is) => v === 0 || (v !== 206 && int(100, 599)(v, p, [])) || expected(is, p, 'a status 100-599 but 206, or 0', v, 'bad-value'));

function list(item: Check, unique = true): Check {
  return (v, p, is) => {
    if (!Array.isArray(v) || v.length === 0) return expected(is, p, 'a non-empty array', v);
    const before = is.length;
    v.forEach((x, i) => {
      if (item(x, `${p}[${i}]`, is) && unique && v.indexOf(x) !== i) issue(is, `${p}[${i}]`, 'bad-value', `${show(x)} is listed twice`);
    });
    return is.length === before;
  };
}

/** Edit distance (Levenshtein, one row at a time), to suggest the field a typo meant. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

export function nearest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of known) {
    const dist = distance(name.toLowerCase(), candidate.toLowerCase());
    if (dist < bestDistance) [best, bestDistance] = [candidate, dist];
  }
  return best;
}

function unknownField(is: Issues, path: string, name: string, known: readonly string[]): false {
  const guess = nearest(name, known);
  return issue(is, path, 'unknown-field', guess ? `unknown field; did you mean "${guess}"?` : `unknown field; expected one of ${known.join(', ')}`);
}

function object(fields: Record<string, Field>): Check {
  const known = Object.keys(fields);
  return (v, p, is) => {
    if (!isObject(v)) return expected(is, p, 'an object', v);
    const before = is.length;
    const at = (k: string) => (p ? `${p}.${k}` : k);
    for (const k of Object.keys(v)) if (!Object.hasOwn(fields, k)) unknownField(is, at(k), k, known);
    for (const [k, [check, required]] of Object.entries(fields)) {
      if (v[k] !== undefined) check(v[k], at(k), is);
      else if (required) issue(is, at(k), 'missing-field', `required; ${required}`);
    }
    return is.length === before;
  };
}

function record(value: Check): Check {
  return (v, p, is) => {
    if (!isObject(v)) return expected(is, p, 'an object', v);
    const before = is.length;
    for (const [k, x] of Object.entries(v)) value(x, `${p}.${k}`, is);
    return is.length === before;
  };
}

const cacheOptions = object({
  strategy: [oneOf(STRATEGIES), `add "strategy": "network-first" (or ${STRATEGIES.slice(1).join(', ')})`],
  networkTimeoutSeconds: [seconds],
  maxEntries: [int(1)],
  maxAgeSeconds: [int(1)],
  statuses: [statuses],
  private: [bool],
  name: [str],
});

const queueOptions = object({
  priority: [oneOf(['high', 'normal', 'low'], ['an integer 0-9', int(0, 9)])],
  maxAttempts: [int(1)],
  ttlSeconds: [int(1)],
  networkTimeoutSeconds: [seconds],
  conflict: [oneOf(['manual', 'server-wins', 'client-wins', 'newest-wins'])],
  detect: [oneOf(['etag', 'none'])],
  retryStatuses: [statuses],
  conflictStatuses: [statuses],
  redactHeaders: [list(str)],
  storeCredentials: [bool],
  maxBodyBytes: [int(1)],
});

const route = object({
  match: [pattern, 'add the path pattern to match, e.g. "match": "/api/items/:id"'],
  origin: [origin],
  methods: [list(oneOf(METHODS))],
  cache: [cacheOptions],
  queue: [queueOptions],
  resource: [str],
});

const resource = object({
  collection: [pattern, 'add the collection path, e.g. "collection": "/api/todos"'],
  item: [
    (v, p, is) =>
      pattern(v, p, is) &&
      (/^[^:*]*:[\w$]+(\/[^:*?]*)?$/.test(v as string) ||
        issue(is, p, 'bad-value', `the item pattern names its id with one parameter, as in "/api/todos/:id"; got ${show(v)}`)),
    'add the item path, e.g. "item": "/api/todos/:id"',
  ],
  idField: [str],
  itemsPath: [(v, p, is) => (typeof v === 'string' && /^[^.]+(\.[^.]+)*$/.test(v)) || expected(is, p, 'a dot path such as "data.items"', v)],
  ids: [oneOf(['client-uuid', 'server'])],
  updatedAtField: [str],
  pendingField: [str],
});

const changes = object({
  stream: [path],
  websocket: [path],
  since: [(v, p, is) => path(v, p, is) && ((v as string).includes('{cursor}') || issue(is, p, 'bad-value', `expected a path holding "{cursor}", e.g. "/api/changes?since={cursor}"; got ${show(v)}`))],
});

const manifest = object({
  version: [oneOf([1]), 'add "version": 1'],
  routes: [list(route, false), 'add "routes": [{ "match": "/", "cache": { "strategy": "network-first" } }]'],
  resources: [record(resource)],
  changes: [changes],
});

/** Rules that join fields: which options suit which methods, references, shadowed routes. */
function checkRoutes(m: Record<string, unknown>, is: Issues): void {
  const routes = Array.isArray(m.routes) ? m.routes : [];
  const resources = isObject(m.resources) ? Object.keys(m.resources) : [];
  const seen = new Map<string, number>();
  routes.forEach((r: unknown, i) => {
    if (!isObject(r)) return;
    const p = `routes[${i}]`;
    const methods = Array.isArray(r.methods) ? (r.methods as unknown[]) : ['GET'];
    // Rules that depend on the methods mean nothing until the methods are valid.
    if (!methods.every((m) => METHODS.includes(m as string))) return;
    const reads = methods.includes('GET');
    const writes = methods.some((x) => WRITE_METHODS.includes(x as string));
    if (reads && r.cache === undefined) issue(is, `${p}.cache`, 'missing-field', 'required for a route with GET; add "cache": { "strategy": "network-first" }');
    if (!reads && r.cache !== undefined) issue(is, `${p}.cache`, 'bad-value', 'only GET requests are cached; add "GET" to methods or remove "cache"');
    if (!writes && r.queue !== undefined) issue(is, `${p}.queue`, 'bad-value', 'only POST, PUT, PATCH and DELETE are queued; add one to methods or remove "queue"');
    const cache = r.cache;
    if (isObject(cache) && cache.networkTimeoutSeconds !== undefined && !['network-first', 'network-only'].includes(cache.strategy as string))
      issue(is, `${p}.cache.networkTimeoutSeconds`, 'bad-value', `only network-first and network-only wait for the network; remove it or change the strategy (got ${show(cache.strategy)})`);
    const queue = r.queue;
    const spec = typeof r.resource === 'string' && isObject(m.resources) ? m.resources[r.resource] : undefined;
    if (isObject(queue) && queue.conflict === 'newest-wins' && !(isObject(spec) && spec.updatedAtField))
      issue(is, `${p}.queue.conflict`, 'bad-value', `"newest-wins" needs the resource's updatedAtField; add "resource" to this route and "updatedAtField" to the resource`);
    if (typeof r.resource === 'string' && !resources.includes(r.resource)) {
      const guess = nearest(r.resource, resources);
      issue(is, `${p}.resource`, 'unknown-reference', `${show(r.resource)} is not in resources${guess ? `; did you mean "${guess}"?` : resources.length ? ` (${resources.join(', ')})` : ' (the manifest declares none)'}`);
    }
    // A route without a string match is reported where its field is checked.
    if (typeof r.match !== 'string') return;
    for (const method of new Set(methods)) {
      const key = `${method} ${typeof r.origin === 'string' ? r.origin : ''}${r.match}`;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else issue(is, `${p}.match`, 'bad-value', `${method} ${r.match} is already routed by routes[${first}], so this route would never match it; merge the two or remove one`);
    }
  });
}

/** Validates a parsed manifest; every problem is reported, not only the first. */
export function validateManifest(value: unknown): ValidationResult {
  const issues: Issues = [];
  if (manifest(value, '', issues) || isObject(value)) checkRoutes(value as Record<string, unknown>, issues);
  return issues.length ? { ok: false, issues } : { ok: true, manifest: value as Manifest, issues: [] };
}

export const formatIssue = (i: ManifestIssue): string => (i.path ? `${i.path}: ${i.message}` : i.message);
