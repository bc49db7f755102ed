/**
 * JSON.parse with a located error. Engines word (and place) their syntax
 * errors differently, and WebKit gives no position at all, so on failure a
 * small scanner walks the text to find where it stops being JSON.
 */
export type JsonParse = { ok: true; value: unknown } | { ok: false; line: number; column: number; message: string };

export function parseJson(text: string): JsonParse {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    const { at, message } = findSyntaxError(text);
    const before = text.slice(0, at).split('\n');
    return { ok: false, line: before.length, column: before[before.length - 1]!.length + 1, message };
  }
}

function findSyntaxError(text: string): { at: number; message: string } {
  let i = 0;
  const fail = (message: string): never => {
    throw { at: i, message };
  };
  const ws = () => {
    while (/\s/.test(text[i] ?? '')) i++;
  };
  const describe = () => (i < text.length ? `unexpected ${JSON.stringify(text[i])}` : 'unexpected end of input');
  const expect = (ch: string) => (text[i] === ch ? i++ : fail(`expected "${ch}"; ${describe()}`));
  const string = () => {
    expect('"');
    for (;;) {
      const ch = text[i];
      if (ch === undefined) fail('unterminated string');
      if (ch === '"') return void i++;
      if (ch! < ' ') fail('control character in string; escape it');
      if (ch === '\\') {
        i++;
        if (text[i] === 'u' && /^[\da-fA-F]{4}/.test(text.slice(i + 1, i + 5))) i += 4;
        else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail('bad escape in string');
      }
      i++;
    }
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a property name in double quotes; ${describe()}`);
        string();
        ws();
        expect(':');
        value();
        ws();
        if (text[i] === ',') {
          i++;
          ws();
          if (text[i] === '}') fail('trailing comma before "}"');
        } else return void expect('}');
      }
    }
    if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          ws();
          if (text[i] === ']') fail('trailing comma before "]"');
        } else return void expect(']');
      }
    }
    if (ch === '"') {
      string();
      return;
    }
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    if (!literal) fail(`expected a value; ${describe()}`);
    i += literal![0].length;
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`${describe()} after the end of the document`);
  } catch (e) {
    if (typeof e === 'object' && e && 'at' in e) return e as { at: number; message: string };
    throw e;
  }
  // JSON.parse failed but the scanner did not: keep a defined answer.
  return { at: 0, message: 'not valid JSON' };
}
