import { describe, expect, it } from 'vitest';
import { parseJson } from '../../cli/json.js';

describe('parseJson', () => {
  it('parses valid JSON', () => {
    expect(parseJson('{"a": [1, 2.5e3, "x\\u0041", true, null]}')).toEqual({ ok: true, value: { a: [1, 2500, 'xA', true, null] } });
  });

  it('takes a leading byte-order mark, as the worker does (fetch drops it)', () => {
    expect(parseJson('\uFEFF{"version": 1}')).toEqual({ ok: true, value: { version: 1 } });
  });

  it.each([
    ['{"a": tru}', 1, 7, 'expected a value; unexpected tru (a string takes double quotes: "tru")'],
    ['{"a": "x', 1, 9, 'unterminated string; add its closing "'],
    ['{"a": 1} x', 1, 10, 'unexpected "x" after the end of the document'],
    ['', 1, 1, 'expected a value; unexpected end of input'],
    ['{"a": "\\q"}', 1, 9, 'bad escape in string'],
    ['{"a" 1}', 1, 6, 'expected ":" after the property name "a"; unexpected "1"'],
    ['{"a": 1 x}', 1, 9, 'expected "," or "}" after a; unexpected "x"'],
    ['{"a":\u00a01}', 1, 6, 'expected a value; unexpected U+00A0'],
  ])('locates the error in %j', (text, line, column, message) => {
    expect(parseJson(text)).toEqual({ ok: false, line, column, message });
  });

  describe('names the likely cause, at the place to fix it', () => {
    it('a missing comma between two properties: at the end of the value before it, naming both', () => {
      const text = ['{', '  "cache": {', '    "strategy": "network-first"', '    "networkTimeoutSeconds": 3', '  }', '}'].join('\n');
      expect(parseJson(text)).toEqual({
        ok: false,
        line: 3,
        column: 32,
        message: 'a comma is missing after cache.strategy, before "networkTimeoutSeconds" on line 4',
      });
      expect(parseJson('{"a": 1 "b": 2}')).toEqual({ ok: false, line: 1, column: 8, message: 'a comma is missing after a, before "b" on line 1' });
      // The next name unquoted too: the comma comes first.
      expect(parseJson('{"a": 1\n  b: 2}')).toEqual({ ok: false, line: 1, column: 8, message: 'a comma is missing after a, before b on line 2' });
    });

    it('a missing comma between two elements of an array: at the end of the one before it', () => {
      const text = ['{ "routes": [', '  { "match": "/a", "cache": { "strategy": "network-first" } }', '  { "match": "/b" }', '] }'].join('\n');
      expect(parseJson(text)).toEqual({ ok: false, line: 2, column: 62, message: 'a comma is missing after routes[0], before the next element on line 3' });
      expect(parseJson('{"methods": ["GET" "POST"]}')).toEqual({
        ok: false,
        line: 1,
        column: 19,
        message: 'a comma is missing after methods[0], before the next element on line 1',
      });
    });

    it('a trailing comma: at the comma', () => {
      expect(parseJson('{\n  "a": 1,\n}')).toEqual({ ok: false, line: 2, column: 9, message: 'trailing comma after a; remove it (JSON allows no comma before "}")' });
      expect(parseJson('{"a": [1, 2,]}')).toEqual({ ok: false, line: 1, column: 12, message: 'trailing comma after a[1]; remove it (JSON allows no comma before "]")' });
    });

    it('single quotes, around a name or a value: shows the string in double quotes', () => {
      const message = (s: string) => `single quotes: JSON strings and property names take double quotes; write "${s}", not '${s}'`;
      expect(parseJson("{'a': 1}")).toEqual({ ok: false, line: 1, column: 2, message: message('a') });
      expect(parseJson(`{"strategy": 'network-first'}`)).toEqual({ ok: false, line: 1, column: 14, message: message('network-first') });
    });

    it('a comment, line or block: at its start', () => {
      expect(parseJson('{\n  // the version\n  "version": 1\n}')).toEqual({ ok: false, line: 2, column: 3, message: 'JSON has no comments; remove this one' });
      expect(parseJson('{"version": 1 /* one */}')).toEqual({ ok: false, line: 1, column: 15, message: 'JSON has no comments; remove this one' });
    });

    it('an unquoted property name or string value', () => {
      expect(parseJson('{\n  version: 1\n}')).toEqual({ ok: false, line: 2, column: 3, message: 'the property name version needs double quotes: write "version"' });
      expect(parseJson('{"strategy": network-first}')).toEqual({
        ok: false,
        line: 1,
        column: 14,
        message: 'expected a value; unexpected network-first (a string takes double quotes: "network-first")',
      });
    });

    it('a string left open at the end of its line', () => {
      expect(parseJson('{"a": "x\n}')).toEqual({
        ok: false,
        line: 1,
        column: 9,
        message: 'unterminated string: add its closing " before the end of the line (or write \\n for a line break)',
      });
    });

    it('an object or array never closed: names where it opens', () => {
      expect(parseJson('{\n  "routes": [1, 2')).toEqual({
        ok: false,
        line: 2,
        column: 18,
        message: 'unexpected end of input: the array that opens at line 2, column 13 is not closed; add "]"',
      });
      expect(parseJson('{"a": 1')).toEqual({ ok: false, line: 1, column: 8, message: 'unexpected end of input: the object that opens at line 1, column 1 is not closed; add "}"' });
    });
  });
});
