/**
 * The JSON Schema (cli/manifest-schema.ts) and the validator
 * (sw/manifest/validate.ts) agree: ajv says a manifest is valid exactly when
 * validateManifest says ok, on every fixture, on the starter manifest `init`
 * writes, and on generated manifests. They part in two listed ways only:
 * CROSS_FIELD, rules that need the whole manifest, which a schema cannot say
 * (there the validator rejects what the schema lets through), and
 * ORIGINS_ONLY_THE_VALIDATOR_TAKES, rare origin forms the schema's pattern
 * leaves out.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CACHE_STRATEGIES, CONFLICT_DETECTIONS, CONFLICT_POLICIES, HTTP_METHODS, ID_SOURCES, PRIORITY_NAMES, type ManifestIssue } from '../../common/manifest.js';
import { manifestSchema, ORIGIN_REGEX, PATTERN_REGEX } from '../../cli/manifest-schema.js';
import { schemaReference } from '../../cli/schema-reference.js';
import { starterManifest } from '../../cli/starter-manifest.js';
import { compilePattern } from '../../sw/manifest/pattern.js';
import { validateManifest } from '../../sw/manifest/validate.js';

const RUNS = { numRuns: 1000 };

// Strict: an unknown keyword or a misplaced one fails the compile, so the schema is one every 2020-12 tool reads alike.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
const schemaAccepts = ajv.compile(manifestSchema());

/**
 * The validator's rules that join distant parts of the manifest. Each is
 * known by the issue it reports.
 */
const CROSS_FIELD = {
  /** A route's `resource` names a key of `resources`. */
  'resource declared': (i: ManifestIssue) => i.code === 'unknown-reference' && /^routes\[\d+\]\.resource$/.test(i.path),
  /** No route repeats an earlier one's method and path, where it could never match. */
  'route not shadowed': (i: ManifestIssue) => /^routes\[\d+\]\.match$/.test(i.path) && i.message.includes('is already routed by'),
  /** newest-wins compares the updatedAtField of the route's resource. */
  'newest-wins has updatedAtField': (i: ManifestIssue) => /^routes\[\d+\]\.queue\.conflict$/.test(i.path) && i.message.includes('needs the resource'),
  /** Each precache URL is routed (as the worker routes) to a GET route that reads the cache. */
  'precache URL cached': (i: ManifestIssue) => /^precache\[\d+\]$/.test(i.path) && i.message.startsWith('no GET route that caches matches'),
};
type Rule = keyof typeof CROSS_FIELD;
const ruleOf = (issue: ManifestIssue): Rule | undefined => (Object.keys(CROSS_FIELD) as Rule[]).find((rule) => CROSS_FIELD[rule](issue));

/**
 * The one place the schema is the stricter: origins. The validator asks the
 * URL parser whether an origin is kept as written; the schema's pattern
 * takes the usual forms (lowercase names, dotted IPv4, a port) and not these
 * rarer ones the parser also keeps. No fixture uses them; the test below
 * shows each.
 */
const ORIGINS_ONLY_THE_VALIDATOR_TAKES = {
  'an IPv6 address': 'http://[::1]:8080',
  'an internationalised name (punycode)': 'https://xn--mnchen-3ya.de',
  'an empty label': 'http://a..b',
  'a trailing dot': 'http://example.com.',
  'a symbol in a label': 'http://a!b.com',
};

/** The fixtures where schema and validator differ, with the rules that make them. Every other fixture: the same answer. */
const DIFFERING_FIXTURES: Record<string, Rule[]> = {
  'bad-reference.json': ['resource declared'],
  'bad-shadowed.json': ['route not shadowed'],
  'bad-newest-wins.json': ['newest-wins has updatedAtField'],
  'bad-precache-route.json': ['precache URL cached'],
};

/** Both say the same; or the validator alone rejects, and only for rules in CROSS_FIELD. Returns those rules. */
function expectAgreement(value: unknown): Rule[] {
  const result = validateManifest(value);
  const accepted = schemaAccepts(value);
  if (result.ok === accepted) return [];
  const schemaErrors = JSON.stringify(schemaAccepts.errors, null, 1);
  expect(accepted, `the schema rejects what the validator accepts: ${schemaErrors}\n${JSON.stringify(value)}`).toBe(true);
  const rules = result.issues.map(ruleOf);
  const other = result.issues.filter((_, i) => rules[i] === undefined);
  expect(other, `the schema accepts what the validator rejects, for rules a schema can say\n${JSON.stringify(value)}`).toEqual([]);
  return [...new Set(rules as Rule[])];
}

const fixtures = fileURLToPath(new URL('../fixtures/manifests/', import.meta.url));
const fixtureFiles = readdirSync(fixtures).filter((f) => f.endsWith('.json'));
const parsed = (file: string): unknown => JSON.parse(readFileSync(`${fixtures}${file}`, 'utf8'));

describe('the manifest schema', () => {
  it('is a draft 2020-12 schema that ajv compiles in strict mode, with a description on every field', () => {
    const schema = manifestSchema();
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const undescribed: string[] = [];
    const walk = (node: unknown, at: string) => {
      if (typeof node !== 'object' || node === null) return;
      const { properties, additionalProperties } = node as { properties?: Record<string, unknown>; additionalProperties?: unknown };
      for (const [name, field] of Object.entries(properties ?? {})) {
        if (typeof (field as { description?: unknown }).description !== 'string') undescribed.push(`${at}.${name}`);
        walk(field, `${at}.${name}`);
      }
      if (typeof additionalProperties === 'object') walk(additionalProperties, `${at}.*`);
      const { items } = node as { items?: unknown };
      if (items) walk(items, `${at}[]`);
    };
    walk(schema, '');
    expect(undescribed).toEqual([]);
  });

  it('takes its names from the tables in common/manifest.ts', () => {
    const text = JSON.stringify(manifestSchema());
    for (const list of [CACHE_STRATEGIES, CONFLICT_POLICIES, CONFLICT_DETECTIONS, ID_SOURCES, PRIORITY_NAMES, HTTP_METHODS])
      expect(text).toContain(`"enum":${JSON.stringify(list)}`);
  });

  it('has a fixture for each rule only the validator checks', () => {
    const exercised = new Set(Object.values(DIFFERING_FIXTURES).flat());
    expect([...exercised].sort()).toEqual(Object.keys(CROSS_FIELD).sort());
    for (const file of Object.keys(DIFFERING_FIXTURES)) expect(fixtureFiles).toContain(file);
  });

  it.each(fixtureFiles.filter((f) => f !== 'bad-syntax.json'))('agrees with the validator on %s', (file) => {
    const value = parsed(file);
    const rules = expectAgreement(value);
    // A fixture may differ only where it is listed to, and then for exactly the rules listed.
    expect(rules.sort()).toEqual((DIFFERING_FIXTURES[file] ?? []).slice().sort());
  });

  it('(bad-syntax.json is not JSON: neither judges it)', () => {
    expect(() => parsed('bad-syntax.json')).toThrow(SyntaxError);
  });

  it.each(Object.entries(ORIGINS_ONLY_THE_VALIDATOR_TAKES))('is stricter than the validator on one kind of origin: %s', (_, origin) => {
    const value = { version: 1, routes: [{ match: '/', origin, cache: { strategy: 'network-first' } }] };
    expect(validateManifest(value).ok).toBe(true);
    expect(schemaAccepts(value)).toBe(false);
  });

  it('accepts the starter manifest init writes, as the validator does', () => {
    for (const schema of ['../node_modules/offline-outbox/dist/manifest.schema.json', schemaReference('public', fixtures)]) {
      const value = JSON.parse(JSON.stringify(starterManifest(schema)));
      expect(validateManifest(value).ok).toBe(true);
      expect(schemaAccepts(value), JSON.stringify(schemaAccepts.errors)).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------
// Generated cases.

/** A manifest holding `match` as a route's pattern, or as a resource's collection or item. */
const withPattern = (match: string, where: 'match' | 'collection' | 'item') =>
  where === 'match'
    ? { version: 1, routes: [{ match, cache: { strategy: 'network-first' } }] }
    : { version: 1, routes: [{ match: '/', cache: { strategy: 'network-first' } }], resources: { r: { collection: '/r', item: '/r/:id', [where]: match } } };

// Strings made of what patterns are made of, so every rule of compilePattern is met and broken.
const patternish = fc.oneof(
  fc.stringMatching(/^\/?[a-z/:*?(){}\\+#.$_]{0,12}$/),
  fc
    .array(fc.constantFrom('/', 'a', 'id', ':', ':id', ':x', ':id?', '?', '*', '(', ')', '{', '}', '\\', '+', '#', '.', '$', '-', '9', '\n', 'é'), { maxLength: 8 })
    .map((parts) => parts.join('')),
);

// Origins and near-origins: default, odd and out-of-range ports, numeric and hex last labels, paths, capitals.
const label = fc.stringMatching(/^[a-z0-9_-]{1,6}$/);
const originish = fc
  .tuple(
    fc.constantFrom('https://', 'http://', 'ftp://', 'HTTPS://', 'https:/'),
    fc.oneof(
      fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join('.')),
      fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 2, maxLength: 5 }).map((n) => n.join('.')),
      fc.constantFrom('0x1f', 'a.0x1', 'a.09', '1.2.3.04', 'Example.com', 'localhost', 'xn--a.com', 'a.xn--zz'),
    ),
    fc.constantFrom('', ':80', ':443', ':8080', ':0', ':65535', ':65536', ':065', ':'),
    fc.constantFrom('', '', '', '/', '/x', '?q'),
  )
  .map((parts) => parts.join(''));

type Key = string | number;
const seeds = [...fixtureFiles.filter((f) => f !== 'bad-syntax.json').map(parsed), starterManifest('../node_modules/offline-outbox/dist/manifest.schema.json')];

/** Every place in a value where a field or item can be changed, as a key path. */
function places(value: unknown, at: Key[] = []): Key[][] {
  const inner = Array.isArray(value)
    ? value.flatMap((v, i) => places(v, [...at, i]))
    : typeof value === 'object' && value !== null
      ? Object.entries(value).flatMap(([k, v]) => places(v, [...at, k]))
      : [];
  return [at, ...inner];
}

/** The name a place's values are filed under: its field's name, or "statuses[]" for an item of a list. */
const nameOf = (path: readonly Key[]): string => {
  const last = path.at(-1);
  return typeof last === 'number' ? `${String([...path].reverse().find((k) => typeof k === 'string') ?? '')}[]` : String(last ?? '');
};

/**
 * Values the seeds hold, by field name, and every field name they use: a
 * changed field mostly gets a value some manifest gives that field (or
 * another), so the changes stay near valid and reach the rules between
 * fields, which wrong types never get past.
 */
const seen = new Map<string, unknown[]>();
for (const seed of seeds)
  for (const path of places(seed))
    if (path.length) seen.set(nameOf(path), [...(seen.get(nameOf(path)) ?? []), path.reduce<unknown>((v, k) => (v as Record<Key, unknown>)[k], seed)]);
const FIELD_NAMES = [...seen.keys()].filter((n) => !n.endsWith('[]'));
const ALL_SEEN = [...seen.values()].flat();
const NAMES = [...CACHE_STRATEGIES, ...CONFLICT_POLICIES, ...CONFLICT_DETECTIONS, ...ID_SOURCES, ...PRIORITY_NAMES, ...HTTP_METHODS];
/** Numbers at each field's edges, paths and near-paths, near-names, and the shapes fields take. */
const EDGES: unknown[] = [
  ...[0, -1, 1, 1.5, 3, 9, 10, 99, 100, 206, 599, 600, 2 ** 53, 0.001],
  ...['', '/', '//x', '/a#b', '/api/notes', '/api/notes/:id', '/api/live', '/app.css?v=3', 'x', 'data..items', '/c?since={cursor}', 'ghost'],
  ...NAMES,
  ...['cache-fist', 'get', 'urgent'],
  ...[true, false, null, [], {}, [200], ['GET'], ['POST'], ['POST', 'POST'], { strategy: 'cache-only' }, { strategy: 'network-only' }],
];

interface Change {
  kind: 'set' | 'delete' | 'add' | 'copy';
  /** Where the value comes from: 0 this field's own values, 1 any seen value, 2 the edges, 3 any JSON. */
  source: number;
  pick: number;
  json: unknown;
}
const change: fc.Arbitrary<Change> = fc.record({
  kind: fc.constantFrom('set', 'set', 'set', 'delete', 'add', 'add', 'copy'),
  source: fc.constantFrom(0, 0, 0, 1, 2, 2, 3),
  pick: fc.nat(),
  json: fc.jsonValue({ maxDepth: 2 }),
});

const choose = <T>(list: readonly T[], pick: number): T | undefined => list[pick % Math.max(1, list.length)];
function valueFor(name: string, { source, pick, json }: Change): unknown {
  const own = seen.get(name) ?? [];
  const list = source === 0 && own.length ? own : source <= 1 ? ALL_SEEN : source === 2 ? EDGES : [json];
  return structuredClone(choose(list, pick));
}

/** `value` with one change at the place `at` picks: a field set, deleted or added, or an item copied over another (a duplicate). */
function mutate(value: unknown, at: number, c: Change): unknown {
  const copy = structuredClone(value);
  const path = choose(places(copy), at)!;
  const parent = path.slice(0, -1).reduce<unknown>((v, k) => (v as Record<Key, unknown>)[k], copy) as Record<Key, unknown> | undefined;
  const target = path.length ? parent![path.at(-1)!] : copy;
  if (c.kind === 'add') {
    if (typeof target !== 'object' || target === null) return copy;
    if (Array.isArray(target)) target.push(valueFor(`${nameOf(path)}[]`, c));
    else {
      const key = choose([...FIELD_NAMES, 'extra'], c.pick >> 4)!;
      (target as Record<string, unknown>)[key] = valueFor(key, c);
    }
    return copy;
  }
  if (c.kind === 'copy') {
    if (Array.isArray(target) && target.length > 1) target[c.pick % target.length] = structuredClone(target[(c.pick + 1) % target.length]);
    return copy;
  }
  if (!parent) return c.kind === 'set' ? valueFor('', c) : undefined;
  if (c.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(path.at(-1) as number, 1);
    else delete parent[path.at(-1)!];
  } else parent[path.at(-1)!] = valueFor(nameOf(path), c);
  return copy;
}

// A thousand runs per property take seconds on a busy machine: past the default 5 s timeout.
describe('the manifest schema, on generated manifests', { timeout: 30_000 }, () => {
  it('accepts a route pattern, collection or item exactly when the validator does', () => {
    fc.assert(
      fc.property(patternish, fc.constantFrom('match', 'collection', 'item'), (match, where) => void expectAgreement(withPattern(match, where))),
      RUNS,
    );
  });

  it('restates compilePattern: its regular expression matches exactly the patterns that compile', () => {
    const regex = new RegExp(PATTERN_REGEX, 'u');
    fc.assert(
      fc.property(patternish, (source) => void expect(regex.test(source), JSON.stringify(source)).toBe(typeof compilePattern(source) !== 'string')),
      RUNS,
    );
  });

  it('accepts a route origin exactly when the validator does', () => {
    const regex = new RegExp(ORIGIN_REGEX, 'u');
    fc.assert(
      fc.property(originish, (origin) => {
        expectAgreement({ version: 1, routes: [{ match: '/', origin, cache: { strategy: 'network-first' } }] });
        let kept = false;
        try {
          kept = /^https?:$/.test(new URL(origin).protocol) && new URL(origin).origin === origin;
        } catch {}
        expect(regex.test(origin), origin).toBe(kept);
      }),
      RUNS,
    );
  });

  // Every place a seed holds a string (a number), as a path; an item of a list counts.
  const holding = (type: 'string' | 'number') =>
    seeds.flatMap((seed) =>
      places(seed)
        .filter((path) => path.length && typeof path.reduce<unknown>((v, k) => (v as Record<Key, unknown>)[k], seed) === type)
        .map((path) => ({ seed, path })),
    );
  const setAt = ({ seed, path }: { seed: unknown; path: Key[] }, value: unknown) => {
    const copy = structuredClone(seed);
    const parent = path.slice(0, -1).reduce<unknown>((v, k) => (v as Record<Key, unknown>)[k], copy) as Record<Key, unknown>;
    parent[path.at(-1)!] = value;
    return copy;
  };

  it('agrees on any string put where a string is: paths, patterns, names, dot paths, queue names', () => {
    // "\", tabs and newlines: the URL parser reads "/\x" and "/<tab>/x" as another host.
    const piece = fc.constantFrom('/', '//', '\\', '\t', '\n', '\r', '.', '..', '#', '?', '?q=1', ':id', ':id?', '*', '{cursor}', 'a', 'data', 'https://x.com', ' ', 'é', '');
    const text = fc.oneof(
      fc.array(piece, { maxLength: 6 }).map((p) => p.join('')),
      fc.string({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...holding('string')), text, (place, value) => void expectAgreement(setAt(place, value))),
      RUNS,
    );
  });

  it('agrees on any number put where a number is: counts, seconds, priorities, statuses, the version', () => {
    const number = fc.oneof(
      fc.constantFrom(0, -0, -1, 0.5, 1, 1.5, 9, 10, 99, 100, 206, 599, 600, 2 ** 53 - 1, 2 ** 53, 1e308),
      fc.integer({ min: -10, max: 1000 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...holding('number')), number, (place, value) => void expectAgreement(setAt(place, value))),
      RUNS,
    );
  });

  it('agrees on every fixture and the starter manifest with one field changed, deleted, added or duplicated', () => {
    const arb = fc.tuple(fc.constantFrom(...seeds), fc.nat(), change).map(([seed, at, c]) => mutate(seed, at, c));
    fc.assert(
      fc.property(arb, (value) => void expectAgreement(value)),
      { numRuns: 3000 },
    );
  });

  it('agrees on three changes at once, so rules that join fields meet values a single change never gives them', () => {
    const arb = fc
      .tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), change), { minLength: 3, maxLength: 3 }))
      .map(([seed, changes]) => changes.reduce<unknown>((value, [at, c]) => mutate(value, at, c), seed));
    fc.assert(
      fc.property(arb, (value) => void expectAgreement(value)),
      { numRuns: 3000 },
    );
  });
});
