import { describe, expect, it } from 'vitest';
import { isNewer, parseNotice } from '../../sw/changes/notice.js';

const known = (name: string) => name === 'todos';

describe('parseNotice', () => {
  it('takes a notice of a declared resource, with its optional version and cursor', () => {
    expect(parseNotice({ resource: 'todos', id: '42', type: 'updated', version: 17, cursor: 'c-9' }, known)).toEqual({
      resource: 'todos',
      id: '42',
      type: 'updated',
      version: 17,
      cursor: 'c-9',
    });
    expect(parseNotice({ resource: 'todos', id: 7, type: 'deleted' }, known)).toEqual({ resource: 'todos', id: '7', type: 'deleted', version: undefined, cursor: undefined });
  });

  it.each([
    ['not an object', 'todos 42 updated'],
    ['null', null],
    ['an array', [{ resource: 'todos', id: '1', type: 'updated' }]],
    ['an unknown resource', { resource: 'users', id: '1', type: 'updated' }],
    ['no id', { resource: 'todos', type: 'updated' }],
    ['an empty id', { resource: 'todos', id: '', type: 'updated' }],
    ['an object id', { resource: 'todos', id: { $gt: 1 }, type: 'updated' }],
    ['a fractional id', { resource: 'todos', id: 1.5, type: 'updated' }],
    ['an unknown type', { resource: 'todos', id: '1', type: 'patched' }],
    ['a version that is neither number nor string', { resource: 'todos', id: '1', type: 'updated', version: [1] }],
    ['a NaN version', { resource: 'todos', id: '1', type: 'updated', version: Number.NaN }],
    ['a cursor that is not a string', { resource: 'todos', id: '1', type: 'updated', cursor: 5 }],
    ['an id of 2,000 characters', { resource: 'todos', id: 'x'.repeat(2000), type: 'updated' }],
    ['a resource named after an Object property', { resource: '__proto__', id: '1', type: 'updated' }],
  ])('ignores %s', (_, value) => {
    expect(parseNotice(value, known)).toBeUndefined();
  });
});

describe('isNewer', () => {
  it('compares numbers by value and strings in order; nothing seen means new; no version is always new', () => {
    expect(isNewer(18, 17)).toBe(true);
    expect(isNewer(17, 17)).toBe(false);
    expect(isNewer(3, 17)).toBe(false);
    expect(isNewer('2026-11-26T10:00:00Z', '2026-11-26T09:00:00Z')).toBe(true);
    expect(isNewer('2026-11-26T09:00:00Z', '2026-11-26T09:00:00Z')).toBe(false);
    expect(isNewer(1, undefined)).toBe(true);
    expect(isNewer(undefined, 5)).toBe(true);
    expect(isNewer('7', 5)).toBe(true);
  });
});
