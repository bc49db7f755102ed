/**
 * JSON.parse with a located error. Engines word (and place) their syntax
 * errors differently, and WebKit gives no position at all, so on failure a
 * small scanner walks the text to find where it stops being JSON. It names
 * the usual causes in hand-written JSON (a missing or trailing comma, single
 * quotes, a comment, an unquoted name) and points at the place to fix, which
 * is not always where the parser stopped: a missing comma belongs at the end
 * of the value before it, not at the start of the next line.
 */
export type JsonParse = { ok: true; value: unknown } | { ok: false; line: number; column: number; message: string };

export function parseJson(source: string): JsonParse {
  // A byte-order mark (some Windows editors write one) is not JSON, but the worker reads the manifest with fetch's text(), which drops it: so does check.
  const text = source.replace(/^\uFEFF/, '');
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    const { at, message } = findSyntaxError(text);
    return { ok: false, ...position(text, at), message };
  }
}

/** Line and column, both from 1, of the character at offset `at`. */
function position(text: string, at: number): { line: number; column: number } {
  const before = text.slice(0, at).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

/** A character as a message shows it: quoted, or by code point when it would not be seen (a no-break space, a byte-order mark). */
const shown = (ch: string): string => (/[\s\p{C}]/u.test(ch) ? `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : JSON.stringify(ch));

// What follows a value when the comma before the next member or element is missing.
const NEXT_MEMBER = /^("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[A-Za-z_$][\w$-]*)\s*:/;
const NEXT_ELEMENT = /^(?:["'{[\d-]|true\b|false\b|null\b)/;

function findSyntaxError(text: string): { at: number; message: string } {
  let i = 0;
  const fail = (message: string, at = i): never => {
    throw { at, message };
  };
  const where = (at: number) => {
    const { line, column } = position(text, at);
    return `line ${line}, column ${column}`;
  };
  const describe = () => (i < text.length ? `unexpected ${shown(text[i]!)}` : 'unexpected end of input');
  const ws = () => {
    // JSON's own whitespace only: JSON.parse refuses a no-break space or a byte-order mark, so the scanner must too.
    while (/[ \t\n\r]/.test(text[i] ?? '')) i++;
    // Editors and JSON5 take comments; JSON does not.
    if (text.startsWith('//', i) || text.startsWith('/*', i)) fail('JSON has no comments; remove this one');
  };
  // Single quotes are JavaScript's, not JSON's: show the string as JSON writes it.
  const singleQuoted = (): never => {
    const quoted = /^'([^'\n]*)'/.exec(text.slice(i, i + 400));
    return fail(`single quotes: JSON strings and property names take double quotes${quoted ? `; write ${JSON.stringify(quoted[1])}, not ${quoted[0]}` : ''}`);
  };
  const unclosed = (what: string, open: number, close: string): never => fail(`unexpected end of input: the ${what} that opens at ${where(open)} is not closed; add "${close}"`);
  const string = () => {
    i++;
    for (;;) {
      const ch = text[i];
      if (ch === undefined) fail('unterminated string; add its closing "');
      if (ch === '"') return void i++;
      if (ch === '\n' || ch === '\r') fail('unterminated string: add its closing " before the end of the line (or write \\n for a line break)');
      if (ch! < ' ') fail(`control character ${shown(ch!)} in a string; escape it`);
      if (ch === '\\') {
        i++;
        if (text[i] === 'u' && /^[\da-fA-F]{4}/.test(text.slice(i + 1, i + 5))) i += 4;
        else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail('bad escape in string');
      }
      i++;
    }
  };
  const name = (): string => {
    if (text[i] === '"') {
      const start = i;
      string();
      return text.slice(start + 1, i - 1);
    }
    if (text[i] === "'") singleQuoted();
    const bare = /^[A-Za-z_$][\w$-]*/.exec(text.slice(i, i + 400));
    return bare ? fail(`the property name ${bare[0]} needs double quotes: write "${bare[0]}"`) : fail(`expected a property name in double quotes; ${describe()}`);
  };
  /** The value at `path` (`routes[0].cache`), which the messages name. */
  const value = (path: string): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      const open = i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        const key = name();
        ws();
        if (text[i] !== ':') fail(`expected ":" after the property name ${JSON.stringify(key)}; ${describe()}`);
        i++;
        const member = path ? `${path}.${key}` : key;
        value(member);
        const end = i;
        ws();
        if (text[i] === '}') return void i++;
        if (text[i] === ',') {
          const comma = i++;
          ws();
          if (text[i] === '}') fail(`trailing comma after ${member}; remove it (JSON allows no comma before "}")`, comma);
          continue;
        }
        const next = NEXT_MEMBER.exec(text.slice(i, i + 400));
        if (next) fail(`a comma is missing after ${member}, before ${next[1]} on line ${position(text, i).line}`, end);
        if (i >= text.length) unclosed('object', open, '}');
        fail(`expected "," or "}" after ${member}; ${describe()}`);
      }
    }
    if (ch === '[') {
      const open = i++;
      ws();
      if (text[i] === ']') return void i++;
      for (let n = 0; ; n++) {
        const element = `${path}[${n}]`;
        value(element);
        const end = i;
        ws();
        if (text[i] === ']') return void i++;
        if (text[i] === ',') {
          const comma = i++;
          ws();
          if (text[i] === ']') fail(`trailing comma after ${element}; remove it (JSON allows no comma before "]")`, comma);
          continue;
        }
        if (NEXT_ELEMENT.test(text.slice(i, i + 6))) fail(`a comma is missing after ${element}, before the next element on line ${position(text, i).line}`, end);
        if (i >= text.length) unclosed('array', open, ']');
        fail(`expected "," or "]" after ${element}; ${describe()}`);
      }
    }
    if (ch === '"') return void string();
    if (ch === "'") singleQuoted();
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    if (literal) return void (i += literal[0].length);
    const bare = /^[A-Za-z_$][\w$.-]*/.exec(text.slice(i, i + 400));
    fail(`expected a value; ${bare ? `unexpected ${bare[0]} (a string takes double quotes: "${bare[0]}")` : describe()}`);
  };
  try {
    value('');
    ws();
    if (i < text.length) fail(`${describe()} after the end of the document`);
  } catch (e) {
    if (typeof e === 'object' && e && 'at' in e) return e as { at: number; message: string };
    throw e;
  }
  // JSON.parse failed but the scanner did not: keep a defined answer.
  return { at: 0, message: 'not valid JSON' };
}
