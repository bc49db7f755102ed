import { describe, expect, it } from 'vitest';
import { parseJson } from '../../cli/json.js';

describe('parseJson', () => {
  it('parses valid JSON', () => {
    expect(parseJson('{"a": [1, 2.5e3, "x\\u0041", true, null]}')).toEqual({ ok: true, value: { a: [1, 2500, 'xA', true, null] } });
  });

  it.each([
    ['{\n  "a": 1,\n}', 3, 1, 'trailing comma before "}"'],
    ['{\n  a: 1\n}', 2, 3, 'expected a property name in double quotes; unexpected "a"'],
    ['{"a": [1, 2,]}', 1, 13, 'trailing comma before "]"'],
    ['{"a": tru}', 1, 7, 'expected a value; unexpected "t"'],
    ['{"a": "x', 1, 9, 'unterminated string'],
    ['{"a": 1} x', 1, 10, 'unexpected "x" after the end of the document'],
    ['', 1, 1, 'expected a value; unexpected end of input'],
    ['{"a": 1 "b": 2}', 1, 9, 'expected "}"; unexpected "\\""'],
    ['{"a": "\\q"}', 1, 9, 'bad escape in string'],
    ["{'a': 1}", 1, 2, `expected a property name in double quotes; unexpected "'"`],
  ])('locates the error in %j', (text, line, column, message) => {
    expect(parseJson(text)).toEqual({ ok: false, line, column, message });
  });
});
