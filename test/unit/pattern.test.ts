import { describe, expect, it } from 'vitest';
import { compilePattern, execPattern, type CompiledPattern } from '../../sw/manifest/pattern.js';

const compile = (source: string): CompiledPattern => {
  const p = compilePattern(source);
  if (typeof p === 'string') throw new Error(p);
  return p;
};

describe('path patterns', () => {
  it('matches literal paths exactly, as URLPattern does', () => {
    const p = compile('/api/items');
    expect(execPattern(p, '/api/items')).toEqual({});
    expect(execPattern(p, '/api/items/')).toBeUndefined();
    expect(execPattern(p, '/api/items/1')).toBeUndefined();
    expect(execPattern(p, '/api/itemsX')).toBeUndefined();
  });

  it('captures :name as one segment', () => {
    const p = compile('/api/todos/:id/notes/:note');
    expect(execPattern(p, '/api/todos/42/notes/a-b')).toEqual({ id: '42', note: 'a-b' });
    expect(execPattern(p, '/api/todos/42/x/notes/1')).toBeUndefined();
    expect(execPattern(p, '/api/todos//notes/1')).toBeUndefined();
  });

  it('makes :name? optional with its slash', () => {
    const p = compile('/api/todos/:id?');
    expect(execPattern(p, '/api/todos')).toEqual({});
    expect(execPattern(p, '/api/todos/7')).toEqual({ id: '7' });
    expect(execPattern(p, '/api/todos/')).toBeUndefined();
  });

  it('lets * span slashes, and escapes regex characters in literals', () => {
    const p = compile('/assets/*.js');
    expect(execPattern(p, '/assets/app/main.js')).toEqual({ 0: 'app/main' });
    expect(execPattern(p, '/assets/app/mainXjs')).toBeUndefined();
    expect(execPattern(compile('/*'), '/anything/at/all')).toEqual({ 0: 'anything/at/all' });
  });

  it('knows the literal first segment, which the route index keys on', () => {
    expect(compile('/api/todos/:id').firstSegment).toBe('api');
    expect(compile('/').firstSegment).toBe('');
    expect(compile('/index.html').firstSegment).toBe('index.html');
    expect(compile('/:lang/home').firstSegment).toBeUndefined();
    expect(compile('/app*').firstSegment).toBeUndefined();
  });

  it.each([
    ['api/items', 'a path pattern starts with "/"; got "api/items"'],
    ['/items/:', '":" at 7 must be followed by a parameter name, as in "/items/:id"'],
    ['/a/:id/:id', 'parameter ":id" appears twice'],
    ['/a:id?', '":id?" must follow "/", as in "/items/:id?"'],
    ['/a/(\\d+)', '"(" at 3: custom groups, regular expressions and modifiers are not supported; use ":name", ":name?" or "*"'],
    ['/a/{b}', '"{" at 3: custom groups, regular expressions and modifiers are not supported; use ":name", ":name?" or "*"'],
    ['/a?b=1', '"?" at 2: a pattern names a path only; query strings and fragments are ignored when matching'],
  ])('rejects %s with a message saying why', (source, message) => {
    expect(compilePattern(source)).toBe(message);
  });
});
