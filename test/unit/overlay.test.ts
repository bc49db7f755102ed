import { describe, expect, it } from 'vitest';
import { overlayCollection, overlayItem, type LocalWrite } from '../../sw/overlay/apply.js';
import { mergePatch } from '../../sw/overlay/merge-patch.js';

const shape = { idField: 'id' };
const w = (method: string, id: string, body?: unknown): LocalWrite => ({ method, id, body });
const base = [
  { id: '1', title: 'milk', done: false },
  { id: '2', title: 'eggs', done: true },
];

describe('JSON Merge Patch (RFC 7396)', () => {
  // The examples of RFC 7396, appendix A.
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('%j + %j = %j', (target, patch, result) => {
    expect(mergePatch(target, patch)).toEqual(result);
  });

  it('changes neither input', () => {
    const target = { a: { b: 1 } };
    const patch = { a: { c: 2 } };
    mergePatch(target, patch);
    expect(target).toEqual({ a: { b: 1 } });
    expect(patch).toEqual({ a: { c: 2 } });
  });
});

describe('the overlay of a collection', () => {
  it('applies POST, PUT, PATCH and DELETE in order', () => {
    const writes = [
      w('POST', '3', { id: '3', title: 'bread', done: false }),
      w('PATCH', '1', { done: true }),
      w('DELETE', '2'),
      w('PUT', '3', { id: '3', title: 'rye bread', done: false }),
      w('PATCH', '3', { done: true, title: null }),
    ];
    expect(overlayCollection(base, writes, shape)).toEqual([
      { id: '1', title: 'milk', done: true },
      { id: '3', done: true },
    ]);
  });

  it('the order decides: a DELETE then a POST of the same id shows the new item, the reverse shows none', () => {
    expect(overlayCollection(base, [w('DELETE', '1'), w('POST', '1', { title: 'new milk' })], shape)).toEqual([base[1], { id: '1', title: 'new milk' }]);
    expect(overlayCollection(base, [w('POST', '9', { title: 'x' }), w('DELETE', '9')], shape)).toEqual(base);
  });

  it('gives a create without its id the id it was queued with; PUT of an unknown id creates it', () => {
    expect(overlayCollection([], [w('POST', 'local-1', { title: 'a' }), w('PUT', '7', { title: 'b' })], shape)).toEqual([
      { title: 'a', id: 'local-1' },
      { title: 'b', id: '7' },
    ]);
  });

  it('a PUT without its id keeps the id as the item had it (a number stays a number)', () => {
    expect(overlayCollection([{ id: 7, t: 'a' }], [w('PUT', '7', { t: 'b' })], shape)).toEqual([{ id: 7, t: 'b' }]);
  });

  it('ignores PATCH and DELETE of ids it does not hold, and writes without a JSON body', () => {
    expect(overlayCollection(base, [w('PATCH', '99', { done: true }), w('DELETE', '98'), w('POST', '5'), w('PATCH', '1')], shape)).toEqual(base);
  });

  it('matches ids across number and string', () => {
    expect(overlayCollection([{ id: 1, title: 'a' }], [w('PATCH', '1', { title: 'b' })], shape)).toEqual([{ id: 1, title: 'b' }]);
  });

  it('reads and rewrites a wrapped collection in place, keeping the other fields', () => {
    const wrapped = { data: { items: base, total: 2 }, next: null };
    expect(overlayCollection(wrapped, [w('DELETE', '1')], { ...shape, itemsPath: 'data.items' })).toEqual({ data: { items: [base[1]], total: 2 }, next: null });
  });

  it('starts empty when there is no base, wrapped or not', () => {
    expect(overlayCollection(undefined, [w('POST', 'a', { id: 'a' })], shape)).toEqual([{ id: 'a' }]);
    expect(overlayCollection(undefined, [w('POST', 'a', { id: 'a' })], { ...shape, itemsPath: 'page.items' })).toEqual({ page: { items: [{ id: 'a' }] } });
  });

  it('refuses (undefined) a base that is not the declared shape', () => {
    expect(overlayCollection({ items: base }, [w('DELETE', '1')], shape)).toBeUndefined();
    expect(overlayCollection(base, [w('DELETE', '1')], { ...shape, itemsPath: 'data.items' })).toBeUndefined();
    expect(overlayCollection('text', [w('DELETE', '1')], shape)).toBeUndefined();
    expect(overlayCollection(null, [w('DELETE', '1')], shape)).toBeUndefined();
  });

  it('marks items with a local change in pendingField, and only those', () => {
    const marked = overlayCollection(base, [w('PATCH', '2', { title: 'brown eggs' }), w('POST', '3', { id: '3' })], { ...shape, pendingField: '_pending' });
    expect(marked).toEqual([base[0], { id: '2', title: 'brown eggs', done: true, _pending: true }, { id: '3', _pending: true }]);
  });

  it('leaves its inputs unchanged', () => {
    const copy = structuredClone(base);
    overlayCollection(base, [w('PATCH', '1', { done: true }), w('DELETE', '2')], { ...shape, pendingField: 'p' });
    expect(base).toEqual(copy);
  });
});

describe('the overlay of an item', () => {
  it('merges PATCHes over the base, and applies only writes to that id', () => {
    expect(overlayItem(base[0], '1', [w('PATCH', '1', { done: true }), w('PATCH', '2', { title: 'x' }), w('PATCH', '1', { note: 'x' })], shape)).toEqual({
      id: '1',
      title: 'milk',
      done: true,
      note: 'x',
    });
  });

  it('is undefined after a DELETE, and exists again after a later PUT', () => {
    expect(overlayItem(base[0], '1', [w('DELETE', '1')], shape)).toBeUndefined();
    expect(overlayItem(base[0], '1', [w('DELETE', '1'), w('PUT', '1', { title: 'again' })], shape)).toEqual({ title: 'again', id: '1' });
  });

  it('exists with no base when it was created locally; a PATCH alone cannot create it', () => {
    expect(overlayItem(undefined, 'n', [w('POST', 'n', { title: 'new' })], shape)).toEqual({ title: 'new', id: 'n' });
    expect(overlayItem(undefined, 'n', [w('PATCH', 'n', { title: 'new' })], shape)).toBeUndefined();
  });

  it('is the base, unmarked, when no write concerns it', () => {
    expect(overlayItem(base[0], '1', [w('DELETE', '2')], { ...shape, pendingField: '_p' })).toBe(base[0]);
  });

  it('marks a changed item in pendingField', () => {
    expect(overlayItem(base[0], '1', [w('PATCH', '1', { done: true })], { ...shape, pendingField: '_p' })).toEqual({ ...base[0], done: true, _p: true });
  });
});
