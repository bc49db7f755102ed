/**
 * Property tests of the change-notice parser (issue 9, "Fuzzing" and defect
 * 19): it never throws; it accepts exactly the notice shape (checked against
 * the rules restated here from DESIGN.md and the issue); what it returns is
 * the notice and nothing else; and versions order as `isNewer` says.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isNewer, parseNotice, type Notice } from '../../common/notice.js';

const RUNS = { numRuns: 1000 };
const RESOURCES = ['todos', 'notes', 'a.b'];
const known = (name: string) => RESOURCES.includes(name);
const TYPES = ['created', 'updated', 'deleted'];

/**
 * The notice shape, as the design and defect 19 state it. An id becomes one
 * segment of the item URL; a version is remembered as the item's last seen.
 */
/** Whether a string can be percent-encoded into a URL (no lone surrogate). */
const urlSafe = (s: string) => {
  try {
    encodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
};

function isNotice(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { resource, id, type, version, cursor } = value as Record<string, unknown>;
  const nonEmpty = (v: unknown, max: number) => typeof v === 'string' && v.length >= 1 && v.length <= max;
  const idOk =
    Number.isSafeInteger(id) ||
    (nonEmpty(id, 1024) &&
      id !== '.' &&
      id !== '..' &&
      urlSafe(id as string) &&
      ![...(id as string)].some((c) => c === '/' || c === '\\' || c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f)));
  const versionOk = version === undefined || nonEmpty(version, 256) || (Number.isSafeInteger(version) && (version as number) >= 0);
  return (
    nonEmpty(resource, 1024) &&
    known(resource as string) &&
    idOk &&
    TYPES.includes(type as string) &&
    versionOk &&
    (cursor === undefined || (nonEmpty(cursor, 1024) && urlSafe(cursor as string)))
  );
}

// ---------------------------------------------------------------------------
// Generators: valid fields, the ways each goes wrong, and whole near-notices.

const controls = fc.constantFrom('\u0000', '\u0009', '\n', '\r', '\u001b', '\u001f', '\u007f', '\u0080', '\u0085', '\u009f');
const idString = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => isNotice({ resource: 'todos', id: s, type: 'created' }));
const validId = fc.oneof(idString, fc.maxSafeInteger(), fc.maxSafeNat(), fc.uuid(), fc.constantFrom('...', '.a', 'a..b', '%2e%2e', '%2F', 'x'.repeat(1024)));
const validVersion = fc.oneof(
  fc.maxSafeNat(),
  fc.string({ minLength: 1, maxLength: 256 }),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constant(Number.MAX_SAFE_INTEGER),
);
const validCursor = fc.oneof(fc.string({ minLength: 1, maxLength: 1024 }), fc.base64String({ minLength: 4, maxLength: 64 }));

const badId = fc.oneof(
  fc.constantFrom('', '.', '..', '/', '\\', '../x', 'a/b', '..\\x', 'x'.repeat(1025), 1.5, -0.5, 2 ** 53, -(2 ** 53), Number.NaN, Infinity, null, true, [], {}, ['1']),
  fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom('/', '\\'), fc.string({ maxLength: 10 })).map(([a, s, b]) => a + s + b),
  fc.tuple(fc.string({ maxLength: 10 }), controls, fc.string({ maxLength: 10 })).map(([a, c, b]) => a + c + b),
  fc
    .tuple(
      fc.string({ maxLength: 10 }),
      fc.integer({ min: 0xd800, max: 0xdfff }).map((u) => String.fromCharCode(u)),
    )
    .map(([a, s]) => a + s),
  fc.double().filter((n) => !Number.isSafeInteger(n)),
);
const badVersion = fc.oneof(
  fc.constantFrom('', 1e308, Infinity, -Infinity, Number.NaN, -1, 0.5, 2 ** 53, Number.MAX_VALUE, null, false, [1], { v: 1 }, 'v'.repeat(257)),
  fc.double().filter((n) => !(Number.isSafeInteger(n) && n >= 0)),
  fc.integer({ max: -1 }),
  fc.string({ minLength: 257, maxLength: 300 }),
);
const badType = fc.oneof(
  fc.constantFrom('Created', 'UPDATED', 'delete', 'patched', 'create', ' updated', '', null, 1),
  fc.string().filter((t) => !TYPES.includes(t)),
);
const badResource = fc.oneof(
  fc.constantFrom('Todos', 'todo', '', '__proto__', 'constructor', 'toString', null, 7, ['todos']),
  fc.string().filter((r) => !known(r)),
);
const badCursor = fc.constantFrom('', 5, null, true, [], {}, 'c'.repeat(1025), 'c-\ud800');

const validNotice = fc.record(
  { resource: fc.constantFrom(...RESOURCES), id: validId, type: fc.constantFrom(...TYPES), version: validVersion, cursor: validCursor },
  { requiredKeys: ['resource', 'id', 'type'] },
);

/** A valid notice with one field broken (or a required one missing). */
const brokenNotice = fc
  .tuple(validNotice, fc.constantFrom('resource', 'id', 'type', 'version', 'cursor', 'missing'), fc.constantFrom('resource', 'id', 'type'))
  .chain(([notice, field, required]) => {
    if (field === 'missing') return fc.constant((({ [required]: _, ...rest }) => rest)(notice) as Record<string, unknown>);
    const bad = { resource: badResource, id: badId, type: badType, version: badVersion, cursor: badCursor }[field];
    return (bad as fc.Arbitrary<unknown>).map((value) => ({ ...notice, [field]: value }) as Record<string, unknown>);
  });

/** Each field drawn from its valid and invalid values, plus stray fields: either shape can come out. */
const nearNotice = fc.record(
  {
    resource: fc.oneof(fc.constantFrom(...RESOURCES), badResource),
    id: fc.oneof(validId, badId),
    type: fc.oneof(fc.constantFrom(...TYPES), badType),
    version: fc.oneof(validVersion, badVersion, fc.constant(undefined)),
    cursor: fc.oneof(validCursor, badCursor, fc.constant(undefined)),
    data: fc.jsonValue({ maxDepth: 2 }),
    ['__proto__']: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);

const anything = fc.anything({
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withDate: true,
  withTypedArray: true,
  withNullPrototype: true,
  withBigInt: true,
  withSparseArray: true,
});

// ---------------------------------------------------------------------------

describe('parseNotice, on generated input', () => {
  it('never throws, and accepts a value exactly when it has the notice shape', () => {
    fc.assert(
      fc.property(fc.oneof(anything, validNotice, brokenNotice, nearNotice), (value) => {
        const notice = parseNotice(value, known);
        expect(notice !== undefined, fc.stringify(value)).toBe(isNotice(value));
      }),
      RUNS,
    );
  });

  it('accepts every valid notice, and returns its fields and nothing else (id as a string)', () => {
    fc.assert(
      fc.property(validNotice, fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), (notice, extra) => {
        const value = { ...extra, ...notice };
        const parsed = parseNotice(value, known);
        expect(parsed).toEqual({ resource: notice.resource, id: String(notice.id), type: notice.type, version: notice.version, cursor: notice.cursor });
        // Only these five keys: a notice names what to refetch and carries no data into the cache.
        expect(Object.keys(parsed!).sort()).toEqual(['cursor', 'id', 'resource', 'type', 'version']);
      }),
      RUNS,
    );
  });

  it('rejects a notice with one field broken: an id that could leave its URL segment, a version that could poison "seen", a misspelled type, an unknown resource', () => {
    fc.assert(
      fc.property(brokenNotice, (value) => {
        expect(parseNotice(value, known), fc.stringify(value)).toBeUndefined();
      }),
      RUNS,
    );
  });

  it('gives ids that stay one path segment of the item URL', () => {
    fc.assert(
      fc.property(fc.oneof(validNotice, nearNotice), (value) => {
        const notice = parseNotice(value, known);
        if (!notice) return;
        // As itemUrl builds it: the id, encoded, in place of the pattern's parameter.
        const url = new URL(`https://app.example/api/todos/${encodeURIComponent(notice.id)}/edit`);
        expect(url.pathname.split('/')).toHaveLength(5);
        expect(url.pathname.startsWith('/api/todos/')).toBe(true);
        expect(url.pathname.endsWith('/edit')).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('isNewer, on accepted versions', () => {
  const versionOf = (v: unknown) => parseNotice({ resource: 'todos', id: '1', type: 'updated', version: v }, known)?.version;
  const accepted = fc.oneof(validVersion, badVersion).map(versionOf);

  it('orders versions of one kind strictly (exactly one of newer, older, equal); no version, or nothing seen, is always new', () => {
    fc.assert(
      fc.property(accepted, accepted, (a, b) => {
        if (a === undefined || b === undefined) {
          expect(isNewer(a, b)).toBe(true);
          return;
        }
        if (typeof a !== typeof b) {
          // A number and a string never compare: each counts as new.
          expect([isNewer(a, b), isNewer(b, a)]).toEqual([true, true]);
          return;
        }
        expect([isNewer(a, b), isNewer(b, a), a === b].filter(Boolean)).toHaveLength(1);
        expect(isNewer(a, b)).toBe(a > b);
      }),
      RUNS,
    );
  });

  it('a remembered numeric version can always be passed by a later one the parser accepts, unless it is the largest safe integer', () => {
    // Defect 19: a forged 1e308 (or Infinity) must never become "seen", or no genuine update would be applied again.
    fc.assert(
      fc.property(fc.oneof(validVersion, badVersion), (v) => {
        const seen: Notice['version'] = versionOf(v);
        if (typeof seen !== 'number' || seen === Number.MAX_SAFE_INTEGER) return;
        const next = versionOf(seen + 1);
        expect(next).toBe(seen + 1);
        expect(isNewer(next, seen)).toBe(true);
      }),
      RUNS,
    );
  });
});
