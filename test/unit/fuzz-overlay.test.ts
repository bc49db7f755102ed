/**
 * Property tests of the read-your-writes algebra (issue 9, "Fuzzing"): on
 * generated collections and write sequences, applying writes in order equals
 * applying the rebased result (the server took the first ones, the overlay
 * shows the rest); the item URL and the collection agree on every item;
 * inputs are never changed; a wrapped collection is the bare array in place;
 * and JSON Merge Patch keeps its RFC 7396 laws.
 *
 * The writes are the ones the worker makes (sw/outbox/intercept.ts): the id
 * is the item's (from its URL, or given to a create), and a body that names
 * the id names that one. A PATCH never touches the id field: a write that
 * renames an item is out of the overlay's contract.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { overlayCollection, overlayItem, type LocalWrite } from '../../sw/overlay/apply.js';
import { mergePatch } from '../../sw/overlay/merge-patch.js';

const RUNS = { numRuns: 1000 };

// "undefined" and "null" are ids too: an app that builds `/api/todos/${todo.id}` before the id is known sends them.
const IDS = ['1', '2', '3', '4', 'a', 'b', 'undefined', 'null'];
const PENDING = '_pending';

interface Shape {
  idField: string;
  pendingField?: string;
  itemsPath?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An own data property, whatever its name (`__proto__` included), as JSON.parse makes it. */
const define = (o: Record<string, unknown>, key: string, value: unknown) => Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
const fromEntries = (entries: [string, unknown][]) => entries.reduce<Record<string, unknown>>((o, [k, v]) => define(o, k, v), {});

// ---------------------------------------------------------------------------
// Generators

const json = fc.jsonValue({ maxDepth: 2 });
/** Field names an item may have: plain ones, the pending marker, and names JSON allows that objects treat specially. */
const fieldName = fc.constantFrom('title', 'done', 'n', 'tags', 'meta', PENDING, '__proto__', 'constructor', 'toString');
const fields = (value: fc.Arbitrary<unknown>) => fc.array(fc.tuple(fieldName, value), { maxLength: 4 }).map(fromEntries);

/** A patch: nested objects, nulls (remove), anything else (set). */
const patchValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.constant(null), json, fields(tie('value'))),
})).value;

/** The id as an item holds it: a numeric id may be a number. */
const idValue = (id: string) => (/^\d+$/.test(id) ? fc.constantFrom<unknown>(id, Number(id)) : fc.constant<unknown>(id));

const shape: fc.Arbitrary<Shape> = fc.record(
  {
    idField: fc.constantFrom('id', '_id'),
    pendingField: fc.constant(PENDING),
    itemsPath: fc.constantFrom('items', 'data.items', 'page.__proto__.list'),
  },
  { requiredKeys: ['idField', 'itemsPath'] },
);

const item = (s: Shape, id: string) => fc.tuple(fields(json), idValue(id)).map(([f, idv]) => define({ ...f }, s.idField, idv));

/** A server collection: items with distinct ids, and some without an id at all (never addressed). */
const baseList = (s: Shape) =>
  fc
    .tuple(
      fc.shuffledSubarray(IDS).chain((ids) => fc.tuple(...ids.map((id) => item(s, id)))),
      fc.array(
        fc.tuple(fields(json), fc.boolean()).map(([f, nullId]) => (nullId ? define(f, s.idField, null) : f)),
        { maxLength: 2 },
      ),
      fc.nat(),
    )
    .map(([withIds, without, at]) => {
      const list: unknown[] = [...withIds];
      for (const x of without) list.splice(at % (list.length + 1), 0, x);
      return list;
    });

const write = (s: Shape): fc.Arbitrary<LocalWrite> =>
  fc.constantFrom(...IDS).chain((id) =>
    fc.oneof(
      // A create or replace: the body may name its id (as the URL has it), or not; a body that is not an object is not an item.
      fc
        .tuple(fc.constantFrom('POST', 'PUT'), fields(json), fc.option(idValue(id), { nil: undefined }))
        .map(([method, body, idv]) => ({ method, id, body: idv === undefined ? body : define({ ...body }, s.idField, idv) })),
      fc.record({
        method: fc.constantFrom('POST', 'PUT'),
        id: fc.constant(id),
        body: fc.oneof(fc.constant(undefined), fc.constant(null), fc.array(json, { maxLength: 2 }), fc.string(), fc.integer()),
      }),
      fc.record({ method: fc.constant('PATCH'), id: fc.constant(id), body: fields(patchValue) }),
      fc.record({
        method: fc.constant('PATCH'),
        id: fc.constant(id),
        body: fc.oneof(fc.constant(undefined), fc.constant(null), fc.array(json, { maxLength: 2 }), fc.string(), fc.boolean()),
      }),
      fc.record({ method: fc.constant('DELETE'), id: fc.constant(id), body: fc.oneof(fc.constant(undefined), json) }),
    ),
  );

/** A shape, a base collection (or none yet), and a sequence of writes. */
const scenario = shape.chain((s) =>
  fc.record({
    shape: fc.constant(s),
    base: fc.option(baseList(s), { nil: undefined, freq: 6 }),
    writes: fc.array(write(s), { maxLength: 12 }),
    split: fc.nat(),
  }),
);

const bare = ({ itemsPath: _, ...s }: Shape): Shape => s;
const unmarked = ({ pendingField: _, ...s }: Shape): Shape => s;

const idOf = (x: unknown, field: string) => (isRecord(x) && x[field] != null ? String(x[field]) : undefined);

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}

/** Puts `items` at `path` inside a wrapper that has other fields too. */
function wrap(items: unknown[], path: string, extra: Record<string, unknown>): unknown {
  const keys = path.split('.');
  const build = (i: number): unknown => (i === keys.length ? items : define({ ...extra }, keys[i]!, build(i + 1)));
  return build(0);
}

// ---------------------------------------------------------------------------

describe('the overlay algebra, on generated collections and writes', () => {
  it('applying writes one at a time, or split anywhere, equals applying them all at once (the rebased result)', () => {
    fc.assert(
      fc.property(scenario, fc.boolean(), ({ shape: s0, base, writes, split }, marked) => {
        const s = marked ? bare(s0) : unmarked(bare(s0));
        const all = overlayCollection(base, writes, s);
        // One at a time: each step's answer is the next step's base (no base yet is an empty collection).
        expect(writes.reduce<unknown>((acc, w) => overlayCollection(acc, [w], s), overlayCollection(base, [], s))).toEqual(all);
        // Rebased: the server applied the first k writes (its answer is the new base); the overlay shows the rest.
        const k = split % (writes.length + 1);
        const server = overlayCollection(base, writes.slice(0, k), unmarked(s));
        const rebased = overlayCollection(server, writes.slice(k), unmarked(s));
        expect(rebased).toEqual(overlayCollection(base, writes, unmarked(s)));
        if (marked) expect(overlayCollection(overlayCollection(base, writes.slice(0, k), s), writes.slice(k), s)).toEqual(all);
      }),
      RUNS,
    );
  });

  it('the same holds for one item: overlayItem in steps equals overlayItem at once', () => {
    fc.assert(
      fc.property(scenario, fc.constantFrom(...IDS), ({ shape: s, base, writes, split }, id) => {
        const start = base?.find((x) => idOf(x, s.idField) === id);
        const k = split % (writes.length + 1);
        const stepwise = overlayItem(overlayItem(start, id, writes.slice(0, k), s), id, writes.slice(k), s);
        expect(stepwise).toEqual(overlayItem(start, id, writes, s));
      }),
      RUNS,
    );
  });

  it('the item URL and the collection agree: overlayItem is the item the collection lists for that id, undefined (404) when it lists none', () => {
    fc.assert(
      fc.property(scenario, fc.boolean(), ({ shape: s0, base, writes }, marked) => {
        const s = marked ? bare(s0) : unmarked(bare(s0));
        const list = overlayCollection(base, writes, s) as unknown[];
        expect(Array.isArray(list)).toBe(true);
        for (const id of IDS) {
          const listed = list.filter((x) => idOf(x, s.idField) === id);
          // No write makes a second item with an id already listed.
          expect(listed.length).toBeLessThanOrEqual(1);
          const start = base?.find((x) => idOf(x, s.idField) === id);
          expect(overlayItem(start, id, writes, s), `item ${id}`).toEqual(listed[0]);
        }
      }),
      RUNS,
    );
  });

  it('leaves items no write names as they were, unmarked and in their order; writes add items only at the end', () => {
    fc.assert(
      fc.property(scenario, ({ shape: s0, base, writes }) => {
        const s = bare(s0);
        const list = overlayCollection(base, writes, s) as unknown[];
        const named = new Set(writes.map((w) => w.id));
        const untouched = (base ?? []).filter((x) => !named.has(idOf(x, s.idField) as string));
        // The same objects (not copies with a marker), in the same order.
        expect(list.filter((x) => untouched.includes(x))).toEqual(untouched);
        for (const x of untouched) expect(list).toContain(x);
        // Every listed item either was in the base or was created by a write to its id.
        for (const x of list) expect((base ?? []).includes(x) || named.has(idOf(x, s.idField) as string)).toBe(true);
      }),
      RUNS,
    );
  });

  it('never changes its inputs (deeply frozen base and writes)', () => {
    fc.assert(
      fc.property(scenario, fc.constantFrom(...IDS), ({ shape: s, base, writes }, id) => {
        const before = structuredClone({ base, writes });
        deepFreeze(base);
        deepFreeze(writes);
        const wrapped = base && deepFreeze(wrap(base, s.itemsPath!, { total: base.length }));
        overlayCollection(base, writes, bare(s));
        overlayCollection(wrapped, writes, s);
        overlayItem(
          base?.find((x) => idOf(x, s.idField) === id),
          id,
          writes,
          s,
        );
        expect({ base, writes }).toEqual(before);
      }),
      RUNS,
    );
  });

  it("a collection wrapped at itemsPath gives the same items as the bare array, in place, the wrapper's other fields kept", () => {
    fc.assert(
      fc.property(scenario, fc.dictionary(fc.string(), json, { maxKeys: 3 }), ({ shape: s, base, writes }, extra) => {
        const path = s.itemsPath!;
        const expected = overlayCollection(base, writes, bare(s)) as unknown[];
        const wrapped = base === undefined ? undefined : wrap(base, path, extra);
        const result = overlayCollection(wrapped, writes, s);
        expect(result).toEqual(wrapped === undefined ? wrap(expected, path, {}) : wrap(expected, path, extra));
        // Reading the items back through the same path gives the bare answer.
        const items = path.split('.').reduce<unknown>((v, k) => (isRecord(v) && Object.hasOwn(v, k) ? v[k] : undefined), result);
        expect(items).toEqual(expected);
      }),
      RUNS,
    );
  });

  it('refuses (undefined) a base that is not the declared shape, whatever the writes', () => {
    const notAList = fc.oneof(fc.constant(null), fc.string(), fc.integer(), fc.boolean(), fc.dictionary(fc.constantFrom('x', 'data'), json));
    fc.assert(
      fc.property(scenario, notAList, ({ shape: s, writes }, base) => {
        expect(overlayCollection(base, writes, bare(s))).toBeUndefined();
        expect(overlayCollection([base], writes, s)).toBeUndefined();
      }),
      RUNS,
    );
  });
});

describe('JSON Merge Patch (RFC 7396), on generated documents', () => {
  /** JSON.parse output: own "__proto__" keys included. */
  const doc = fc.jsonValue({ maxDepth: 3 });
  const patch = fc.oneof(doc, patchValue);

  it('sets, removes and merges exactly the members the patch names, as own members', () => {
    fc.assert(
      fc.property(doc, patch, (target, p) => {
        const result = mergePatch(target, p);
        if (!isRecord(p)) {
          expect(result).toBe(p);
          return;
        }
        expect(isRecord(result)).toBe(true);
        const out = result as Record<string, unknown>;
        expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
        const t = isRecord(target) ? target : {};
        for (const key of Object.keys(p)) {
          if (p[key] === null) expect(Object.hasOwn(out, key), key).toBe(false);
          else {
            expect(Object.hasOwn(out, key), key).toBe(true);
            expect(out[key]).toEqual(mergePatch(Object.hasOwn(t, key) ? t[key] : undefined, p[key]));
          }
        }
        for (const key of Object.keys(t)) if (!Object.hasOwn(p, key)) expect(out[key]).toBe(t[key]);
        for (const key of Object.keys(out)) expect(Object.hasOwn(p, key) || Object.hasOwn(t, key)).toBe(true);
      }),
      RUNS,
    );
  });

  it('is idempotent, survives a JSON round trip, and changes neither input', () => {
    fc.assert(
      fc.property(doc, patch, (target, p) => {
        const before = structuredClone({ target, p });
        deepFreeze(target);
        deepFreeze(p);
        const once = mergePatch(target, p);
        expect(mergePatch(once, p)).toEqual(once);
        // What the page gets is the JSON text: every member the patch set is in it.
        const sent: unknown = JSON.parse(JSON.stringify(once));
        if (isRecord(p)) for (const [key, value] of Object.entries(p)) if (value !== null) expect(isRecord(sent) && Object.hasOwn(sent, key), key).toBe(true);
        expect({ target, p }).toEqual(before);
      }),
      RUNS,
    );
  });
});

// Regressions the properties above found, as examples.
describe('regressions found by the properties', () => {
  const w = (method: string, id: string, body?: unknown): LocalWrite => ({ method, id, body });

  it('a merge patch member named "__proto__" is set as a member, not as the prototype', () => {
    const result = mergePatch({ a: 1 }, JSON.parse('{"__proto__": {"x": 1}, "b": 2}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(result.x).toBeUndefined();
    expect(JSON.stringify(result)).toBe('{"a":1,"__proto__":{"x":1},"b":2}');
    const item = overlayItem({ id: '1' }, '1', [w('PATCH', '1', JSON.parse('{"__proto__": {"admin": true}}'))], { idField: 'id' });
    expect(JSON.stringify(item)).toBe('{"id":"1","__proto__":{"admin":true}}');
  });

  it('a PATCH whose body is not a JSON object (null, a string, an array) leaves the item as it is', () => {
    const base = [{ id: '1', title: 'milk' }];
    for (const body of [null, 'text', [1], 7, false]) {
      expect(overlayCollection(base, [w('PATCH', '1', body)], { idField: 'id' })).toEqual(base);
      expect(overlayItem(base[0], '1', [w('PATCH', '1', body)], { idField: 'id' })).toEqual(base[0]);
      expect(overlayItem(base[0], '1', [w('PATCH', '1', body)], { idField: 'id', pendingField: '_p' })).toEqual({ ...base[0], _p: true });
    }
  });

  it('items without an id are not marked pending by writes to the ids "undefined" or "null"', () => {
    const base = [{ title: 'no id' }, { id: null, title: 'null id' }];
    const shape = { idField: 'id', pendingField: '_p' };
    expect(overlayCollection(base, [w('POST', 'undefined', { title: 'a' }), w('POST', 'null', { title: 'b' })], shape)).toEqual([
      ...base,
      { title: 'a', id: 'undefined', _p: true },
      { title: 'b', id: 'null', _p: true },
    ]);
  });
});
