/**
 * The manifest validator. It ships inside the worker, so it is a handful of
 * small checkers rather than a schema library; it reports every problem, each
 * located by the field's path, with what was expected and what was found.
 */
import { isObject } from '../shared/json.js';
import { compileRoutes, findRoute } from '../routing/route-table.js';
import { compilePattern } from './pattern.js';
import { nearest } from './suggest.js';
import { CACHE_STRATEGIES, CONFLICT_DETECTIONS, CONFLICT_POLICIES, HTTP_METHODS, ID_SOURCES, PRIORITY_NAMES, WRITE_METHODS } from './types.js';
import { NETWORK_TIMEOUT_STRATEGIES, UNCACHED_STRATEGIES, type Manifest, type ManifestIssue, type ValidationResult } from './types.js';

type Issues = ManifestIssue[];
/** Checks `value` at `path`, recording issues; returns whether it passed. */
type Check = (value: unknown, path: string, issues: Issues) => boolean;
/** A field's checker and, when the field is required, how to add it. */
type Field = [Check, required?: string];

/** `list.includes(value)` for a value of any type (a readonly tuple's `includes` takes only its members). */
const among = (list: readonly unknown[], value: unknown): boolean => list.includes(value);

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

const expected = (issues: Issues, path: string, what: string, value: unknown, code: ManifestIssue['code'] = 'wrong-type', hint = '') =>
  issue(issues, path, code, `expected ${what}; got ${show(value)}${hint}`);

const str: Check = (v, p, is) => (typeof v === 'string' && v !== '') || expected(is, p, 'a non-empty string', v);
const bool: Check = (v, p, is) => typeof v === 'boolean' || expected(is, p, 'true or false', v);

const int =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (v, p, is) =>
    (Number.isInteger(v) && (v as number) >= min && (v as number) <= max) ||
    expected(is, p, max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer ${min}-${max}`, v, typeof v === 'number' ? 'bad-value' : 'wrong-type');

const seconds: Check = (v, p, is) =>
  (typeof v === 'number' && v > 0 && Number.isFinite(v)) || expected(is, p, 'a number of seconds > 0', v, typeof v === 'number' ? 'bad-value' : 'wrong-type');

const oneOf =
  (values: readonly (string | number)[], also?: [string, Check]): Check =>
  (v, p, is) => {
    if (among(values, v)) return true;
    if (also?.[1](v, p, [])) return true;
    const list = values.join(', ');
    const guess = typeof v === 'string' ? nearest(v, values) : undefined;
    return expected(is, p, `one of ${also ? `${list} or ${also[0]}` : list}`, v, 'bad-value', guess === undefined ? '' : ` — did you mean ${show(guess)}?`);
  };

const pattern: Check = (v, p, is) => {
  if (!str(v, p, is)) return false;
  const compiled = compilePattern(v as string);
  return typeof compiled !== 'string' || issue(is, p, 'bad-value', compiled);
};

// The validator does not know the site's origin: one that no route can name stands in for it.
const SELF = 'https://self.invalid';

/**
 * Whether a path resolves on the page's own origin. "//host/x" does not, nor
 * "/\host/x" or "/<tab>/host/x": the URL parser reads "\" as "/" and drops
 * tabs and newlines, so those name another host.
 */
function staysHome(v: string): boolean {
  try {
    return v.startsWith('/') && new URL(v, SELF).origin === SELF;
  } catch {
    // "//" and "/\" name a host, an empty one.
    return false;
  }
}

/** A same-origin path such as "/api/changes"; the page resolves it against its origin. */
const path: Check = (v, p, is) => (typeof v === 'string' && staysHome(v)) || expected(is, p, 'a same-origin path starting with "/"', v);

const origin: Check = (v, p, is) => {
  let ok = false;
  try {
    ok = typeof v === 'string' && /^https?:$/.test(new URL(v).protocol) && new URL(v).origin === v;
  } catch {}
  return ok || expected(is, p, 'an origin such as "https://api.example.com" (scheme, host and port; no path or trailing "/")', v, 'bad-value');
};

/**
 * A URL the worker fetches from its own origin: a path, perhaps with a query;
 * a fragment is never sent, so two entries differing only there would be one.
 */
const sameOriginUrl: Check = (v, p, is) =>
  (typeof v === 'string' && staysHome(v) && !v.includes('#')) ||
  expected(is, p, 'a same-origin path starting with "/", as in "/app.css" (a query string may follow; no "#")', v, typeof v === 'string' ? 'bad-value' : 'wrong-type');

// 206 cannot be stored (the Cache API refuses partial responses); 0 is an opaque response.
const statuses: Check = list((v, p, is) => v === 0 || (v !== 206 && int(100, 599)(v, p, [])) || expected(is, p, 'a status 100-599 but 206, or 0', v, 'bad-value'));

/**
 * `empty`: the list may be empty, for lists a build tool writes (a precache
 * list, queue names), where none is a real answer; lists people write
 * (methods, statuses) mean nothing empty.
 */
function list(item: Check, { unique = true, empty = false } = {}): Check {
  return (v, p, is) => {
    if (!Array.isArray(v) || (v.length === 0 && !empty)) return expected(is, p, empty ? 'an array' : 'a non-empty array', v);
    const before = is.length;
    v.forEach((x, i) => {
      if (item(x, `${p}[${i}]`, is) && unique && v.indexOf(x) !== i) issue(is, `${p}[${i}]`, 'bad-value', `${show(x)} is listed twice`);
    });
    return is.length === before;
  };
}

/**
 * Paths of absent fields whose name is misspelt (`routes[0].cache`, for a
 * "cahce" there), filled as objects are checked. The misspelling is reported
 * with the name it meant; the field's absence is not a second mistake, and
 * rules that need the field wait until it is spelt right. Validation is
 * synchronous: one set, cleared by each call, serves.
 */
const misspelt = new Set<string>();

function object(fields: Record<string, Field>): Check {
  const known = Object.keys(fields);
  return (v, p, is) => {
    if (!isObject(v)) return expected(is, p, 'an object', v);
    const before = is.length;
    const at = (k: string) => (p ? `${p}.${k}` : k);
    for (const k of Object.keys(v))
      if (!Object.hasOwn(fields, k)) {
        const guess = nearest(k, known);
        if (guess) misspelt.add(at(guess));
        issue(is, at(k), 'unknown-field', guess ? `unknown field; did you mean "${guess}"?` : `unknown field; expected one of ${known.join(', ')}`);
      }
    for (const [k, [check, required]] of Object.entries(fields)) {
      if (v[k] !== undefined) check(v[k], at(k), is);
      else if (required && !misspelt.has(at(k))) issue(is, at(k), 'missing-field', `required; ${required}`);
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
  strategy: [oneOf(CACHE_STRATEGIES), `add "strategy": "${CACHE_STRATEGIES[0]}" (or ${CACHE_STRATEGIES.slice(1).join(', ')})`],
  networkTimeoutSeconds: [seconds],
  maxEntries: [int(1)],
  maxAgeSeconds: [int(1)],
  statuses: [statuses],
  private: [bool],
  name: [str],
});

const queueOptions = object({
  priority: [oneOf(PRIORITY_NAMES, ['an integer 0-9', int(0, 9)])],
  maxAttempts: [int(1)],
  ttlSeconds: [int(1)],
  networkTimeoutSeconds: [seconds],
  conflict: [oneOf(CONFLICT_POLICIES)],
  detect: [oneOf(CONFLICT_DETECTIONS)],
  retryStatuses: [statuses],
  conflictStatuses: [statuses],
  redactHeaders: [list(str)],
  storeCredentials: [bool],
  maxBodyBytes: [int(1)],
});

const route = object({
  match: [pattern, 'add the path pattern to match, e.g. "match": "/api/items/:id"'],
  origin: [origin],
  methods: [list(oneOf(HTTP_METHODS))],
  cache: [cacheOptions],
  queue: [queueOptions],
  resource: [str],
});

const resource = object({
  collection: [pattern, 'add the collection path, e.g. "collection": "/api/todos"'],
  item: [
    (v, p, is) =>
      pattern(v, p, is) &&
      (/^[^:*]*:[\w$]+(\/[^:*?]*)?$/.test(v as string) || issue(is, p, 'bad-value', `the item pattern names its id with one parameter, as in "/api/todos/:id"; got ${show(v)}`)),
    'add the item path, e.g. "item": "/api/todos/:id"',
  ],
  idField: [str],
  itemsPath: [(v, p, is) => (typeof v === 'string' && /^[^.]+(\.[^.]+)*$/.test(v)) || expected(is, p, 'a dot path such as "data.items"', v)],
  ids: [oneOf(ID_SOURCES)],
  updatedAtField: [str],
  pendingField: [str],
});

const changes = object({
  stream: [path],
  websocket: [path],
  since: [
    (v, p, is) =>
      path(v, p, is) && ((v as string).includes('{cursor}') || issue(is, p, 'bad-value', `expected a path holding "{cursor}", e.g. "/api/changes?since={cursor}"; got ${show(v)}`)),
  ],
});

const manifest = object({
  version: [oneOf([1]), 'add "version": 1'],
  routes: [list(route, { unique: false }), 'add "routes": [{ "match": "/", "cache": { "strategy": "network-first" } }]'],
  resources: [record(resource)],
  changes: [changes],
  precache: [list(sameOriginUrl, { empty: true })],
  workboxQueues: [list(str, { empty: true })],
  // Editors read it; the worker does not.
  $schema: [(v, p, is) => typeof v === 'string' || expected(is, p, 'a string (the URL or path of the JSON Schema)', v)],
});

const validMethods = (v: unknown): v is unknown[] => Array.isArray(v) && v.length > 0 && v.every((x) => among(HTTP_METHODS, x));

/**
 * Rules that join fields: which options suit which methods, references,
 * shadowed routes. One mistake is one problem: a rule whose fields are
 * invalid, or misspelt, waits for them to be fixed (they are reported where
 * they are), rather than reporting the same mistake a second time.
 */
function checkRoutes(m: Record<string, unknown>, is: Issues): void {
  const routes = Array.isArray(m.routes) ? m.routes : [];
  const declared = isObject(m.resources) ? m.resources : {};
  const resources = Object.keys(declared);
  const resourcesBroken = m.resources === undefined ? misspelt.has('resources') : !isObject(m.resources);
  const seen = new Map<string, number>();
  routes.forEach((r: unknown, i) => {
    if (!isObject(r)) return;
    const p = `routes[${i}]`;
    const meant = (field: string) => misspelt.has(`${p}.${field}`);
    // A misspelt "methods" is not the default GET: the rules that depend on the methods wait until they are valid.
    const methods = r.methods === undefined && !meant('methods') ? ['GET'] : r.methods;
    const methodsValid = validMethods(methods);
    if (methodsValid) {
      const reads = methods.includes('GET');
      const writes = methods.some((x) => among(WRITE_METHODS, x));
      if (reads && r.cache === undefined && !meant('cache'))
        issue(is, `${p}.cache`, 'missing-field', 'required for a route with GET; add "cache": { "strategy": "network-first" }');
      if (!reads && r.cache !== undefined) issue(is, `${p}.cache`, 'bad-value', 'only GET requests are cached; add "GET" to methods or remove "cache"');
      if (!writes && r.queue !== undefined) issue(is, `${p}.queue`, 'bad-value', 'only POST, PUT, PATCH and DELETE are queued; add one to methods or remove "queue"');
    }
    const cache = r.cache;
    if (isObject(cache) && cache.networkTimeoutSeconds !== undefined && among(CACHE_STRATEGIES, cache.strategy) && !among(NETWORK_TIMEOUT_STRATEGIES, cache.strategy))
      issue(
        is,
        `${p}.cache.networkTimeoutSeconds`,
        'bad-value',
        `only ${NETWORK_TIMEOUT_STRATEGIES.join(' and ')} wait for the network; remove it or change the strategy (got ${show(cache.strategy)})`,
      );
    const ref = r.resource;
    const spec = typeof ref === 'string' && Object.hasOwn(declared, ref) ? declared[ref] : undefined;
    const queue = r.queue;
    if (
      isObject(queue) &&
      queue.conflict === 'newest-wins' &&
      (ref === undefined ? !meant('resource') : isObject(spec) && spec.updatedAtField === undefined && !misspelt.has(`resources.${ref}.updatedAtField`))
    )
      issue(is, `${p}.queue.conflict`, 'bad-value', `"newest-wins" needs the resource's updatedAtField; add "resource" to this route and "updatedAtField" to the resource`);
    if (typeof ref === 'string' && !Object.hasOwn(declared, ref) && !resourcesBroken) {
      const guess = nearest(ref, resources);
      issue(
        is,
        `${p}.resource`,
        'unknown-reference',
        `${show(ref)} is not in resources${guess ? `; did you mean "${guess}"?` : resources.length ? ` (${resources.join(', ')})` : ' (the manifest declares none)'}`,
      );
    }
    // A route without a string match, or with an origin of the wrong type or misspelt (it would look same-origin), is reported where that field is.
    if (!methodsValid || typeof r.match !== 'string' || (r.origin === undefined ? meant('origin') : typeof r.origin !== 'string')) return;
    for (const method of new Set(methods)) {
      const key = `${method} ${typeof r.origin === 'string' ? r.origin : ''}${r.match}`;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else issue(is, `${p}.match`, 'bad-value', `${method} ${r.match} is already routed by routes[${first}], so this route would never match it; merge the two or remove one`);
    }
  });
}

/** Whether the worker's route table can be built from this route (its other problems are reported where its fields are checked). */
const routable = (r: unknown): boolean =>
  isObject(r) &&
  typeof r.match === 'string' &&
  typeof compilePattern(r.match) !== 'string' &&
  (r.origin === undefined || typeof r.origin === 'string') &&
  (r.methods === undefined || validMethods(r.methods));

/**
 * Each precache URL must be answered from the cache, or storing it at install
 * is wasted: it is routed as the worker routes it (the same table, first
 * match wins), and that route's strategy must read the cache.
 */
function checkPrecache(m: Record<string, unknown>, is: Issues): void {
  const { routes, precache } = m;
  // With a route broken (or none), the one a URL was meant for may be it: report the routes, not the URL.
  if (!Array.isArray(precache) || !Array.isArray(routes) || !routes.length || !routes.every(routable)) return;
  const table = compileRoutes({ version: 1, routes } as Manifest, SELF);
  precache.forEach((url: unknown, i) => {
    if (!sameOriginUrl(url, '', [])) return;
    const target = new URL(url as string, SELF);
    const example = `{ "match": ${JSON.stringify(target.pathname)}, "cache": { "strategy": "cache-first" } }`;
    const found = findRoute(table, 'GET', target);
    if (!found)
      return void issue(
        is,
        `precache[${i}]`,
        'bad-value',
        `no GET route that caches matches ${show(url)}, so it would never be served from the cache; add a route such as ${example}`,
      );
    // Not validated yet: a route's cache may be anything; a bad one is reported where it is.
    const cache: unknown = found.route.spec.cache;
    if (isObject(cache) && among(UNCACHED_STRATEGIES, cache.strategy))
      issue(
        is,
        `precache[${i}]`,
        'bad-value',
        `no GET route that caches matches ${show(url)}: routes[${found.route.index}] serves it ${show(cache.strategy)}, never from the cache; change its strategy, or add a route before it such as ${example}`,
      );
  });
}

/** Validates a parsed manifest; every problem is reported, not only the first. */
export function validateManifest(value: unknown): ValidationResult {
  const issues: Issues = [];
  misspelt.clear();
  if (manifest(value, '', issues) || isObject(value)) {
    checkRoutes(value as Record<string, unknown>, issues);
    checkPrecache(value as Record<string, unknown>, issues);
  }
  return issues.length ? { ok: false, issues } : { ok: true, manifest: value as Manifest, issues: [] };
}

export const formatIssue = (i: ManifestIssue): string => (i.path ? `${i.path}: ${i.message}` : i.message);
