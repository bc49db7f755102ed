import { describe, expect, it } from 'vitest';
import { checkNotice, isNewer, parseNotice } from '../../common/notice.js';

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

  // Issue 9, defect 19: the id becomes a path segment of the item URL, and the version is remembered per item.
  it.each([
    ['an id "."', { id: '.' }],
    ['an id ".."', { id: '..' }],
    ['an id holding "/"', { id: '../admin' }],
    ['an id holding "/" alone', { id: '/' }],
    ['an id holding "\\"', { id: '..\\admin' }],
    ['an id holding a NUL', { id: '4\u00002' }],
    ['an id holding a newline', { id: '42\n' }],
    ['an id holding DEL', { id: '42\u007f' }],
    ['an id holding a C1 control', { id: '42\u0085' }],
    ['an id holding a lone surrogate (it cannot be put in a URL)', { id: 'a\ud800' }],
    ['a cursor holding a lone surrogate', { cursor: '\udc00c-9' }],
    ['an id of 1,025 characters', { id: 'x'.repeat(1025) }],
    ['an unsafe integer id', { id: 2 ** 53 }],
    ['a version of 1e308', { version: 1e308 }],
    ['an Infinity version', { version: Number.POSITIVE_INFINITY }],
    ['a negative version', { version: -1 }],
    ['a fractional version', { version: 1.5 }],
    ['an unsafe integer version', { version: 2 ** 53 }],
    ['an empty string version', { version: '' }],
    ['a string version of 257 characters', { version: 'v'.repeat(257) }],
  ])('rejects %s', (_, fields) => {
    expect(parseNotice({ resource: 'todos', id: '1', type: 'updated', ...fields }, known)).toBeUndefined();
  });

  it.each([
    ['an id with dots that is not a dot segment', { id: '...' }, { id: '...' }],
    ['an id with a dot inside', { id: 'a.b' }, { id: 'a.b' }],
    ['an id of 1,024 characters', { id: 'x'.repeat(1024) }, { id: 'x'.repeat(1024) }],
    ['an id outside the BMP', { id: 'todo-\u{1F600}' }, { id: 'todo-\u{1F600}' }],
    ['a negative integer id', { id: -3 }, { id: '-3' }],
    ['a zero version', { version: 0 }, { version: 0 }],
    ['the largest safe version', { version: Number.MAX_SAFE_INTEGER }, { version: Number.MAX_SAFE_INTEGER }],
    ['a string version of 256 characters', { version: 'v'.repeat(256) }, { version: 'v'.repeat(256) }],
    ['a timestamp version', { version: '2026-11-26T10:00:00Z' }, { version: '2026-11-26T10:00:00Z' }],
  ])('accepts %s', (_, fields, expected) => {
    expect(parseNotice({ resource: 'todos', id: '1', type: 'created', ...fields }, known)).toMatchObject({ resource: 'todos', type: 'created', ...expected });
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

describe('checkNotice (what an app publishes)', () => {
  it('takes any non-empty resource name, an id, a type and an optional version', () => {
    expect(checkNotice({ resource: 'anything-at-all', id: '42', type: 'updated', version: 17 })).toBeUndefined();
    expect(checkNotice({ resource: 'todos', id: 7, type: 'deleted' })).toBeUndefined();
  });

  it.each([
    ['not an object', 'todos 42', 'notice', 'a notice must be an object {resource, id, type, version?}; got "todos 42"'],
    ['an array', [], 'notice', 'got an array'],
    ['an unknown type', { resource: 'todos', id: '1', type: 'changed' }, 'type', 'type must be one of created, updated, deleted; got "changed"'],
    ['no resource', { id: '1', type: 'created' }, 'resource', 'resource must be a non-empty name (at most 1024 characters, no control characters); got nothing'],
    ['an id with a slash', { resource: 'todos', id: 'a/b', type: 'created' }, 'id', 'got "a/b"'],
    ['a fractional version', { resource: 'todos', id: '1', type: 'created', version: 1.5 }, 'version', 'got 1.5'],
    ['a cursor (the feed assigns it)', { resource: 'todos', id: '1', type: 'created', cursor: 'c1' }, 'cursor', 'cursor must be absent: the feed assigns it'],
    ['data', { resource: 'todos', id: '1', type: 'created', title: 'milk' }, 'title', '"title" is not a notice field'],
  ])('names the first problem: %s', (_, value, field, message) => {
    expect(checkNotice(value)).toEqual({ field, message: expect.stringContaining(message) });
  });

  it('accepts exactly what the worker parses, once given its cursor', () => {
    const notice = { resource: 'todos', id: 'a.b', type: 'created', version: '2026-11-26T10:00:00Z' };
    expect(checkNotice(notice)).toBeUndefined();
    expect(parseNotice({ ...notice, cursor: 'c1' }, known)).toEqual({ ...notice, cursor: 'c1' });
  });
});
