/**
 * Property tests of the manifest validator (issue 9, "Fuzzing"): it never
 * throws, whatever it is given; every issue names the path of a field of the
 * value it was given and says what was expected; generated valid manifests
 * are accepted as they are; and each kind of breakage made to a valid one
 * (a wrong type, an unknown or misspelled field, a misspelled name, a
 * missing field, a number out of range) is reported at the field it was made.
 * The JSON Schema answers the same on each (manifest-schema.test.ts compares
 * the two more widely).
 */
import Ajv2020 from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manifestSchema } from '../../cli/manifest-schema.js';
import type { ManifestIssue } from '../../common/manifest.js';
import { validateManifest } from '../../sw/manifest/validate.js';

const RUNS = { numRuns: 1000 };

const schemaAccepts = new Ajv2020({ strict: true, strictRequired: false }).compile(manifestSchema());

// ---------------------------------------------------------------------------
// What a manifest is, restated from DESIGN.md and common/manifest.ts.

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const STRATEGIES = ['network-first', 'stale-while-revalidate', 'cache-first', 'network-only', 'cache-only'] as const;
const PRIORITIES = ['high', 'normal', 'low'] as const;
const CONFLICTS = ['manual', 'server-wins', 'client-wins', 'newest-wins'] as const;

type Kind = 'manifest' | 'route' | 'cache' | 'queue' | 'resource' | 'changes';
const FIELDS: Record<Kind, readonly string[]> = {
  manifest: ['version', 'routes', 'resources', 'changes', 'precache', 'workboxQueues', '$schema'],
  route: ['match', 'origin', 'methods', 'cache', 'queue', 'resource'],
  cache: ['strategy', 'networkTimeoutSeconds', 'maxEntries', 'maxAgeSeconds', 'statuses', 'private', 'name'],
  queue: [
    'priority',
    'maxAttempts',
    'ttlSeconds',
    'networkTimeoutSeconds',
    'conflict',
    'detect',
    'retryStatuses',
    'conflictStatuses',
    'redactHeaders',
    'storeCredentials',
    'maxBodyBytes',
  ],
  resource: ['collection', 'item', 'idField', 'itemsPath', 'ids', 'updatedAtField', 'pendingField'],
  changes: ['stream', 'websocket', 'since'],
};
const REQUIRED: Record<Kind, readonly string[]> = {
  manifest: ['version', 'routes'],
  route: ['match'],
  cache: ['strategy'],
  queue: [],
  resource: ['collection', 'item'],
  changes: [],
};
/** Fields whose value is one of a list of names, with that list. */
const NAMES: Record<string, readonly (string | number)[]> = {
  version: [1],
  strategy: STRATEGIES,
  priority: PRIORITIES,
  conflict: CONFLICTS,
  detect: ['etag', 'none'],
  ids: ['client-uuid', 'server'],
  methods: METHODS,
};
/** List fields that may be empty (what a build tool writes). */
const MAY_BE_EMPTY = ['precache', 'workboxQueues'];
/** Integer fields that count from 1. */
const COUNTS = ['maxEntries', 'maxAgeSeconds', 'maxAttempts', 'ttlSeconds', 'maxBodyBytes'];
const STATUS_LISTS = ['statuses', 'retryStatuses', 'conflictStatuses'];

// ---------------------------------------------------------------------------
// Valid manifests.

const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,7}$/);
const literal = fc.array(word, { minLength: 1, maxLength: 3 }).map((s) => `/${s.join('/')}`);
const itemPattern = fc
  .tuple(literal, fc.constantFrom('id', 'key', 'slug_1', '$id'), fc.option(word, { nil: undefined }))
  .map(([p, name, tail]) => `${p}/:${name}${tail ? `/${tail}` : ''}`);
const matchPattern = fc.oneof(
  literal,
  itemPattern,
  literal.map((p) => `${p}/*`),
  literal.map((p) => `${p}/:id?`),
  fc.constant('/'),
);
const host = fc.tuple(fc.array(word, { minLength: 1, maxLength: 2 }), fc.constantFrom('com', 'org', 'example', 'dev')).map(([labels, tld]) => [...labels, tld].join('.'));
const origin = fc
  .tuple(fc.constantFrom('https', 'http'), host, fc.option(fc.integer({ min: 1024, max: 65535 }), { nil: undefined }))
  .map(([scheme, host, port]) => `${scheme}://${host}${port ? `:${port}` : ''}`)
  // Internationalised names ("xn--" labels) are one of the few origins the validator takes and the schema does not (manifest-schema.test.ts).
  .filter((o) => !/[/.]xn--/.test(o))
  .filter((o) => {
    try {
      return new URL(o).origin === o;
    } catch {
      return false;
    }
  });
const text = fc.string({ minLength: 1, maxLength: 12 });
const count = fc.integer({ min: 1, max: 1_000_000 });
const seconds = fc.oneof(fc.integer({ min: 1, max: 3600 }), fc.double({ min: 0.001, max: 3600, noNaN: true }));
const statuses = fc.uniqueArray(
  fc.oneof(
    fc.constant(0),
    fc.integer({ min: 100, max: 599 }).filter((s) => s !== 206),
  ),
  { minLength: 1, maxLength: 4 },
);
const path = fc.array(word, { maxLength: 3 }).map((s) => `/${s.join('/')}`);

const cacheOptions = fc
  .record(
    {
      strategy: fc.constantFrom(...STRATEGIES),
      networkTimeoutSeconds: seconds,
      maxEntries: count,
      maxAgeSeconds: count,
      statuses,
      private: fc.boolean(),
      name: text,
    },
    { requiredKeys: ['strategy'] },
  )
  // Only network-first and network-only wait for the network.
  .map((c) => (c.strategy === 'network-first' || c.strategy === 'network-only' ? c : (({ networkTimeoutSeconds: _, ...rest }) => rest)(c)));

const queueOptions = fc.record(
  {
    priority: fc.oneof(fc.constantFrom(...PRIORITIES), fc.integer({ min: 0, max: 9 })),
    maxAttempts: count,
    ttlSeconds: count,
    networkTimeoutSeconds: seconds,
    // newest-wins needs the resource's updatedAtField: added below where a route can have it.
    conflict: fc.constantFrom('manual', 'server-wins', 'client-wins'),
    detect: fc.constantFrom('etag', 'none'),
    retryStatuses: statuses,
    conflictStatuses: statuses,
    redactHeaders: fc.uniqueArray(text, { minLength: 1, maxLength: 3 }),
    maxBodyBytes: count,
  },
  { requiredKeys: [] },
);

const resourceSpec = fc.record(
  {
    collection: matchPattern,
    item: itemPattern,
    idField: text,
    itemsPath: fc
      .array(
        fc.string({ minLength: 1, maxLength: 6 }).filter((s) => !s.includes('.')),
        { minLength: 1, maxLength: 3 },
      )
      .map((s) => s.join('.')),
    ids: fc.constantFrom('client-uuid', 'server'),
    updatedAtField: text,
    pendingField: text,
  },
  { requiredKeys: ['collection', 'item'] },
);

const changesSpec = fc.record(
  { stream: path, websocket: path, since: fc.tuple(path, fc.constantFrom('?since={cursor}', '/{cursor}')).map(([p, q]) => (p === '/' ? `/${q.replace(/^\//, '')}` : `${p}${q}`)) },
  { requiredKeys: [] },
);

/** A route: GET routes have a cache, write routes may have a queue, a resource named is declared. */
const routeSpec = (names: string[]) =>
  fc
    .record({
      match: matchPattern,
      origin: fc.option(origin, { nil: undefined, freq: 4 }),
      methods: fc.option(fc.uniqueArray(fc.constantFrom(...METHODS), { minLength: 1, maxLength: 5 }), { nil: undefined }),
      cache: cacheOptions,
      queue: fc.option(queueOptions, { nil: undefined }),
      resource: names.length ? fc.option(fc.constantFrom(...names), { nil: undefined }) : fc.constant(undefined),
      newestWins: fc.boolean(),
    })
    .map(({ cache, queue, newestWins, ...r }) => {
      const methods: readonly string[] = r.methods ?? ['GET'];
      const writes = methods.some((m) => m !== 'GET');
      return dropUndefined({
        ...r,
        cache: methods.includes('GET') ? cache : undefined,
        queue: writes ? (queue ?? (newestWins ? {} : undefined)) : undefined,
        newestWins,
      });
    });

const dropUndefined = <T extends Record<string, unknown>>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

const resourceName = fc.oneof(word, fc.string({ minLength: 1, maxLength: 10 }));

/** A path the pattern matches: each parameter filled with `fill`, an optional one left out, a wildcard two segments. */
const pathOf = (pattern: string, fill: string) =>
  pattern
    .replace(/\/:[\w$]+\?/g, '')
    .replace(/:[\w$]+/g, fill)
    .replace(/\*/g, `${fill}/${fill}`) || '/';

/**
 * Precache URLs for the first same-origin GET route (no route before it can
 * take its URLs), when it reads the cache: a path its pattern matches, with
 * a query or not. Else none, or an empty list.
 */
const precacheFor = (routes: readonly Record<string, unknown>[], fills: readonly string[], queries: readonly (string | undefined)[]): string[] => {
  const first = routes.find((r) => r.origin === undefined && ((r.methods as string[] | undefined) ?? ['GET']).includes('GET'));
  if (!first || (first.cache as { strategy: string }).strategy === 'network-only') return [];
  const urls = fills.map((fill, i) => `${pathOf(first.match as string, fill)}${queries[i] ?? ''}`);
  return urls.filter((u, i) => urls.indexOf(u) === i);
};

const validManifest = fc
  .record(
    {
      resources: fc.dictionary(resourceName, resourceSpec, { minKeys: 0, maxKeys: 3 }),
      changes: changesSpec,
      withResources: fc.boolean(),
      precache: fc.tuple(fc.array(word, { maxLength: 3 }), fc.array(fc.option(fc.constantFrom('?v=1', '?a=b&c', '?'), { nil: undefined }), { minLength: 3, maxLength: 3 })),
      workboxQueues: fc.uniqueArray(text, { maxLength: 3 }),
      $schema: fc.oneof(fc.constant('./node_modules/offline-outbox/dist/manifest.schema.json'), fc.string()),
    },
    { requiredKeys: ['resources', 'withResources'] },
  )
  .chain(({ resources, changes, withResources, precache, workboxQueues, $schema }) => {
    const names = Object.keys(resources);
    return (
      fc
        // One route per path (and origin): two routes for the same method and path would shadow.
        .uniqueArray(routeSpec(names), { minLength: 1, maxLength: 6, selector: (r) => `${String(r.origin ?? '')} ${String(r.match)}` })
        .map((generated) => {
          const routes = generated.map(({ newestWins, ...route }) => {
            const spec = typeof route.resource === 'string' ? resources[route.resource] : undefined;
            return newestWins && route.queue && spec?.updatedAtField ? { ...route, queue: { ...route.queue, conflict: 'newest-wins' } } : route;
          });
          return {
            version: 1,
            routes,
            ...(withResources || names.length ? { resources } : {}),
            ...(changes ? { changes } : {}),
            ...(precache ? { precache: precacheFor(routes, ...precache) } : {}),
            ...(workboxQueues ? { workboxQueues } : {}),
            ...($schema === undefined ? {} : { $schema }),
          };
        })
    );
  });

// ---------------------------------------------------------------------------
// Paths: the validator writes `routes[2].queue.priority`, `resources.todos.item`.

type Segment = string | number;
const formatPath = (segments: readonly Segment[]) => segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Location {
  /** The object or array holding the field; undefined for the document itself. */
  parent?: unknown;
  key?: Segment;
}

/**
 * Every way `path` can be read as a field of `root`. Keys may themselves hold
 * "." or "[", so each own key that fits is tried in turn.
 */
function locate(root: unknown, path: string): Location[] {
  // An empty path is the document, or a top-level field named "".
  if (path === '') return [{}, ...(isRecord(root) && Object.hasOwn(root, '') ? [{ parent: root, key: '' }] : [])];
  const found: Location[] = [];
  const walk = (value: unknown, rest: string, first: boolean) => {
    const index = /^\[(\d+)\]/.exec(rest);
    if (index && Array.isArray(value)) {
      const i = Number(index[1]);
      const after = rest.slice(index[0].length);
      if (after === '') found.push({ parent: value, key: i });
      else if (i < value.length) walk(value[i], after, false);
    }
    if (!isRecord(value)) return;
    if (!first && !rest.startsWith('.')) return;
    const body = first ? rest : rest.slice(1);
    const keys = new Set([...Object.keys(value), ...allKnownFields]);
    for (const key of keys) {
      if (!body.startsWith(key)) continue;
      const after = body.slice(key.length);
      if (after === '') found.push({ parent: value, key });
      else if ((after.startsWith('.') || after.startsWith('[')) && Object.hasOwn(value, key)) walk(value[key], after, false);
    }
  };
  walk(root, path, true);
  return found;
}
const allKnownFields = new Set(Object.values(FIELDS).flat());
/** Whether the field is there (`valued`: and not undefined). */
const has = ({ parent, key }: Location, valued = true) =>
  isRecord(parent) ? Object.hasOwn(parent, key as string) && (!valued || parent[key as string] !== undefined) : Array.isArray(parent) && (key as number) < parent.length;

/** How each kind of issue says what was expected, or what to do. */
const SAYS: Record<ManifestIssue['code'], RegExp> = {
  'json-syntax': /./,
  'wrong-type': /^expected .+; got .+$/s,
  // Besides "expected …; got …": a duplicate, or the rule broken and how to mend it.
  'bad-value': /expected .+; got .+|(listed|appears) twice|starts with|names (its id|a path only)|\b(add|remove|merge|use|must|needs)\b/s,
  'missing-field': /^required.*; add /s,
  'unknown-field': /^unknown field; (did you mean ".+"\?|expected one of .+)$/s,
  'unknown-reference': /^.+ is not in resources/s,
};

/** The properties every answer of the validator has, whatever the input. */
function checkAnswer(value: unknown) {
  const result = validateManifest(value);
  if (result.ok) {
    expect(result).toEqual({ ok: true, manifest: value, issues: [] });
    expect(result.manifest).toBe(value);
    return result;
  }
  expect(result.ok).toBe(false);
  expect(result.issues.length).toBeGreaterThan(0);
  // Plain checks in the loop (thousands of issues per property): expect() only to report one that fails.
  for (const issue of result.issues) {
    const says = SAYS[issue.code] as RegExp | undefined;
    if (!says?.test(issue.message)) expect(issue.message, `${issue.path} (${issue.code})`).toMatch(says ?? /a known code/);
    // The path names a field of the value given: its container exists, and
    // the field itself is there (or, for a missing field, is not).
    const places = locate(value, issue.path);
    const ok =
      places.length > 0 &&
      (issue.code !== 'unknown-field' || places.some((p) => has(p, false))) &&
      (issue.code !== 'missing-field' || places.some((p) => !has(p))) &&
      (issue.code !== 'wrong-type' || issue.path === '' || places.some((p) => has(p)));
    if (!ok)
      expect.fail(`${issue.code} at ${JSON.stringify(issue.path)}, which is not ${issue.code === 'missing-field' ? 'a missing' : 'a'} field of the manifest: ${issue.message}`);
  }
  return result;
}

// ---------------------------------------------------------------------------
// Breaking a valid manifest at one field.

interface Field {
  segments: Segment[];
  /** The kind of object this node is, when it is one. */
  kind?: Kind;
  /** The field's name (for list items, the list's). */
  name: string;
  required: boolean;
}

/** Every field, list item and object of a manifest, with what it is. */
function fieldsOf(manifest: Record<string, unknown>): Field[] {
  const out: Field[] = [];
  const visit = (value: unknown, segments: Segment[], kind: Kind | undefined, name: string, required: boolean) => {
    out.push({ segments, kind, name, required });
    if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, [...segments, i], name === 'routes' ? 'route' : undefined, name, false));
      return;
    }
    if (!kind || !isRecord(value)) return;
    for (const [key, child] of Object.entries(value)) {
      const childKind: Kind | undefined = key === 'cache' || key === 'queue' ? key : kind === 'manifest' && key === 'changes' ? 'changes' : undefined;
      if (kind === 'manifest' && key === 'resources' && isRecord(child)) {
        out.push({ segments: [...segments, key], name: key, required: false });
        // A resource's name is data, not a field name: its entry is named for the record.
        for (const [resource, spec] of Object.entries(child)) visit(spec, [...segments, key, resource], 'resource', 'resources.*', false);
        continue;
      }
      visit(child, [...segments, key], childKind, key, REQUIRED[kind].includes(key));
    }
  };
  visit(manifest, [], 'manifest', '', true);
  return out.filter((f) => f.segments.length > 0);
}

const get = (root: unknown, segments: readonly Segment[]): unknown => segments.reduce<unknown>((v, s) => (v as Record<Segment, unknown>)[s], root);

/** A copy of `root` with the field at `segments` set by `change` (or deleted when it returns `DELETE`). */
const DELETE = Symbol('delete');
function changed(root: unknown, segments: readonly Segment[], change: (value: unknown) => unknown): unknown {
  const copy = structuredClone(root);
  const parent = get(copy, segments.slice(0, -1)) as Record<Segment, unknown>;
  const key = segments[segments.length - 1]!;
  const next = change(parent[key]);
  if (next === DELETE) delete parent[key];
  else Object.defineProperty(parent, key, { value: next, writable: true, enumerable: true, configurable: true });
  return copy;
}

/** Misspellings of a name: one character dropped, doubled or changed, or its case changed. */
const misspell = (name: string, how: number, at: number): string => {
  const i = at % Math.max(1, name.length);
  switch (how % 5) {
    case 0:
      return name.slice(0, i) + name.slice(i + 1);
    case 1:
      return name.slice(0, i) + name[i] + name.slice(i);
    case 2:
      return name.slice(0, i) + (name[i] === 'x' ? 'y' : 'x') + name.slice(i + 1);
    case 3:
      return name.toUpperCase() === name ? name.toLowerCase() : name.toUpperCase();
    default:
      return `${name}s`;
  }
};

/**
 * Edit distance where a swap of two neighbours is one edit, to check a
 * suggestion is the nearest known name: the full table, unlike the
 * validator's rows.
 */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/** The name a message suggests ("did you mean …?"), as the manifest writes it: "POST", or 1. */
const suggested = (message: string): unknown => {
  const guess = /did you mean (.+)\?$/s.exec(message)?.[1];
  return guess === undefined ? undefined : JSON.parse(guess);
};

/**
 * The issue reported at `path` with one of `codes`: the only one, since the
 * manifest was broken in one place (one mistake is one problem, not a
 * second from a rule that needs the broken field).
 */
const issueAt = (value: unknown, segments: readonly Segment[], codes: readonly ManifestIssue['code'][]) => {
  const result = checkAnswer(value);
  const path = formatPath(segments);
  expect(result.ok, `${path} should be reported`).toBe(false);
  const found = result.issues.find((i) => i.path === path && codes.includes(i.code));
  expect(found, `expected a ${codes.join('/')} issue at ${path}; got ${JSON.stringify(result.issues)}`).toBeDefined();
  expect(result.issues, `one problem for one mistake at ${path}`).toHaveLength(1);
  // Each breakage made here is one a schema can say.
  expect(schemaAccepts(value), `the schema accepts what the validator reports at ${path}`).toBe(false);
  return found!;
};

/** A valid manifest with one of its fields picked (`pick` indexes the fields that `keep` keeps). */
interface Picked {
  manifest: Record<string, unknown>;
  field: Field;
}
const picked = (keep: (f: Field, m: Record<string, unknown>) => boolean): fc.Arbitrary<Picked> =>
  fc
    .tuple(validManifest, fc.nat())
    .map(([m, pick]): Partial<Picked> => {
      const candidates = fieldsOf(m).filter((f) => keep(f, m));
      return { manifest: m, field: candidates[pick % Math.max(1, candidates.length)] };
    })
    .filter((p): p is Picked => p.field !== undefined);

// ---------------------------------------------------------------------------

// A thousand runs per property take seconds on a busy machine: past the default 5 s timeout.
describe('validateManifest, on generated input', { timeout: 30_000 }, () => {
  it('never throws on any value, and every issue names a field of it and says what was expected', () => {
    const anything = fc.anything({
      withBoxedValues: true,
      withMap: true,
      withSet: true,
      withDate: true,
      withTypedArray: true,
      withNullPrototype: true,
      withObjectString: true,
      withUnicodeString: true,
    });
    fc.assert(
      fc.property(fc.oneof(anything, fc.jsonValue()), (value) => void checkAnswer(value)),
      RUNS,
    );
  });

  it('never throws on near-manifests: a real shape with any value in any field', () => {
    // The top-level and route fields, each filled with anything: far more get past the first check than with fc.anything alone.
    // Strings made of what patterns and paths are made of, so the pattern checks see their edge cases.
    const patternish = fc.stringMatching(/^\/?[a-z/:*?(){}\\+#.${}]{0,10}$/);
    // JSON can name a member "toString" or "valueOf": an object holding `"toString": null` cannot be turned into a string.
    const unprintable = fc.constantFrom<unknown>({ toString: null }, [{ toString: null }], { valueOf: null, toString: null }, JSON.parse('{"__proto__": null}'));
    const any = fc.oneof(fc.jsonValue({ maxDepth: 2 }), patternish, unprintable);
    const fields = (names: readonly string[]) =>
      fc.record(Object.fromEntries(names.map((k) => [k, k === 'methods' ? fc.array(fc.oneof(fc.constantFrom(...METHODS), any)) : any])), { requiredKeys: [] });
    const near = fc.record(
      {
        version: fc.oneof(fc.constant(1), any),
        routes: fc.oneof(fc.array(fields(FIELDS.route), { maxLength: 4 }), any),
        resources: fc.oneof(fc.dictionary(fc.string(), fields(FIELDS.resource), { maxKeys: 3 }), any),
        changes: fc.oneof(fields(FIELDS.changes), any),
        precache: fc.oneof(fc.array(fc.oneof(patternish, any), { maxLength: 4 }), any),
        workboxQueues: any,
        $schema: any,
        extra: any,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(near, (value) => void checkAnswer(value)),
      RUNS,
    );
  });

  it('accepts every generated valid manifest, as it is', () => {
    fc.assert(
      fc.property(validManifest, (manifest) => {
        const before = structuredClone(manifest);
        expect(validateManifest(manifest)).toEqual({ ok: true, manifest, issues: [] });
        expect(manifest).toEqual(before);
        expect(schemaAccepts(manifest), JSON.stringify(schemaAccepts.errors)).toBe(true);
      }),
      RUNS,
    );
  });

  it('reports a wrong type put in any field (null, [], a swapped primitive, or {} for a leaf) at that field', () => {
    const arb = fc.tuple(
      picked(() => true),
      fc.nat(3),
    );
    fc.assert(
      fc.property(arb, ([{ manifest, field }, how]) => {
        // {} is a valid value for an object field (an empty queue), so it only goes where a leaf was.
        const wrong = (v: unknown) =>
          how === 0
            ? null
            : how === 1
              ? MAY_BE_EMPTY.includes(field.name)
                ? {}
                : []
              : how === 2 && (typeof v !== 'object' || v === null)
                ? {}
                : typeof v === 'number'
                  ? String(v)
                  : typeof v === 'string'
                    ? true
                    : typeof v === 'boolean'
                      ? String(v)
                      : null;
        issueAt(changed(manifest, field.segments, wrong), field.segments, ['wrong-type', 'bad-value']);
      }),
      RUNS,
    );
  });

  it('reports a misspelled name (method, strategy, priority, conflict, detect, ids, version), listing the names it takes and suggesting the nearest', () => {
    const arb = fc.tuple(
      picked((f, m) => f.name in NAMES && typeof get(m, f.segments) !== 'object'),
      fc.nat(),
      fc.nat(),
    );
    fc.assert(
      fc.property(arb, ([{ manifest, field }, how, at]) => {
        const valid = NAMES[field.name]!;
        const value = get(manifest, field.segments);
        // version 1 becomes another number; a numeric priority becomes a string.
        let wrong: unknown = field.name === 'version' ? 2 + (how % 5) : typeof value === 'number' ? String(value) : misspell(String(value), how, at);
        if (valid.includes(wrong as string)) wrong = `${String(wrong)}!`;
        const issue = issueAt(
          changed(manifest, field.segments, () => wrong),
          field.segments,
          ['bad-value'],
        );
        expect(issue.message).toContain('expected one of');
        for (const name of valid) expect(issue.message).toContain(String(name));
        expect(issue.message).toContain(`got ${JSON.stringify(wrong)}`);
        // A suggestion is one of the names, none nearer; one slip (or a change of case) from a name always gets one.
        const guess = suggested(issue.message);
        if (guess !== undefined) {
          expect(valid).toContain(guess);
          for (const other of valid)
            expect(distance(String(wrong).toLowerCase(), String(guess).toLowerCase())).toBeLessThanOrEqual(distance(String(wrong).toLowerCase(), String(other).toLowerCase()));
        }
        if (typeof value === 'string' && typeof wrong === 'string' && distance(wrong.toLowerCase(), value.toLowerCase()) <= 1) expect(guess, issue.message).toBeDefined();
      }),
      RUNS,
    );
  });

  it('reports an unknown field, and suggests the nearest known one for a misspelled field', () => {
    const arb = fc.tuple(
      picked((f) => f.kind !== undefined),
      fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 12 })),
      fc.boolean(),
      fc.nat(),
      fc.nat(),
      fc.jsonValue({ maxDepth: 2 }),
    );
    fc.assert(
      fc.property(arb, ([{ manifest, field }, name, typo, how, at, value]) => {
        const known = FIELDS[field.kind!];
        const key = typo ? misspell(known[at % known.length]!, how, at) : name;
        fc.pre(!known.includes(key));
        const segments = [...field.segments, key];
        const broken = changed(manifest, segments, () => value);
        const issue = issueAt(broken, segments, ['unknown-field']);
        // Fields may be added to the manifest: the checks hold for the ones listed here, whatever else the validator knows.
        const guess = /did you mean "(.+)"\?$/s.exec(issue.message)?.[1];
        if (guess !== undefined) {
          for (const other of known) expect(distance(key.toLowerCase(), guess.toLowerCase())).toBeLessThanOrEqual(distance(key.toLowerCase(), other.toLowerCase()));
        } else {
          const listed = /^unknown field; expected one of (.+)$/s.exec(issue.message)?.[1]?.split(', ');
          expect(listed, issue.message).toEqual(expect.arrayContaining([...known]));
        }
        // One edit (or a change of case) from a known field is always close enough to suggest it.
        if (typo) expect(guess).toBeDefined();
      }),
      RUNS,
    );
  });

  // The top-level object is its own field list: picked() skips it, so it gets its own run.
  it('reports an unknown top-level field', () => {
    fc.assert(
      fc.property(validManifest, fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), (manifest, key, value) => {
        fc.pre(!FIELDS.manifest.includes(key));
        issueAt(
          changed(manifest, [key], () => value),
          [key],
          ['unknown-field'],
        );
      }),
      RUNS,
    );
  });

  it('reports a missing required field (version, routes, match, strategy, collection, item) at its path', () => {
    fc.assert(
      fc.property(
        picked((f) => f.required),
        ({ manifest, field }) => {
          const issue = issueAt(
            changed(manifest, field.segments, () => DELETE),
            field.segments,
            ['missing-field'],
          );
          expect(issue.message).toMatch(/^required.*; add /s);
        },
      ),
      RUNS,
    );
  });

  it('reports a number out of range (counts < 1 or fractional, seconds <= 0, priority outside 0-9, status 206 or outside 100-599)', () => {
    const numeric = (f: Field) =>
      COUNTS.includes(f.name) || f.name === 'networkTimeoutSeconds' || f.name === 'priority' || (STATUS_LISTS.includes(f.name) && typeof f.segments.at(-1) === 'number');
    const arb = fc.tuple(picked(numeric), fc.nat(), fc.double({ noNaN: true, noDefaultInfinity: true }));
    fc.assert(
      fc.property(arb, ([{ manifest, field }, pick, x]) => {
        const choose = <T>(list: T[]) => list[pick % list.length]!;
        const bad =
          field.name === 'networkTimeoutSeconds'
            ? choose([0, -0, -1, -Math.abs(x) - 1e-9, Number.MAX_VALUE * -1])
            : field.name === 'priority'
              ? choose([-1, 10, 99, 4.5, Math.abs(Math.trunc(x)) + 10])
              : STATUS_LISTS.includes(field.name)
                ? choose([206, 99, 600, 1, 200.5, -200])
                : choose([0, -1, 1.5, -Math.abs(Math.trunc(x)), 2 ** 53]);
        issueAt(
          changed(manifest, field.segments, () => bad),
          field.segments,
          ['bad-value'],
        );
      }),
      RUNS,
    );
  });
});
