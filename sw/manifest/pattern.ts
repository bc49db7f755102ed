/**
 * Path patterns in the subset of URLPattern's pathname syntax that routes
 * need: literal text, `:name` (one path segment), `:name?` (an optional
 * segment, its leading `/` included) and `*` (anything, slashes included).
 * Our own compiler rather than `URLPattern`, which WebKit and older Firefox
 * lack; the syntax is the same, so a pattern means what URLPattern says.
 */

export interface CompiledPattern {
  readonly source: string;
  readonly regexp: RegExp;
  /** Parameter names in order; `*` captures are named "0", "1", …. */
  readonly names: readonly string[];
  /** The pattern's first path segment when it is literal (`api` for `/api/x/:id`), else undefined. */
  readonly firstSegment: string | undefined;
}

const NAME = /^[A-Za-z_$][\w$]*/;

/** Returns the compiled pattern, or a message saying what is wrong with it. */
export function compilePattern(source: string): CompiledPattern | string {
  if (!source.startsWith('/')) return `a path pattern starts with "/"; got ${JSON.stringify(source)}`;
  let re = '';
  const names: string[] = [];
  let wildcards = 0;
  for (let i = 0; i < source.length; ) {
    const ch = source[i]!;
    if (ch === ':') {
      const name = NAME.exec(source.slice(i + 1))?.[0];
      if (!name) return `":" at ${i} must be followed by a parameter name, as in "/items/:id"`;
      if (names.includes(name)) return `parameter ":${name}" appears twice`;
      names.push(name);
      i += 1 + name.length;
      const optional = source[i] === '?';
      if (optional) {
        // URLPattern makes the "/" before an optional segment optional too.
        if (!re.endsWith('\\/')) return `":${name}?" must follow "/", as in "/items/:id?"`;
        re = `${re.slice(0, -2)}(?:\\/([^\\/]+))?`;
        i++;
      } else {
        re += '([^\\/]+)';
      }
    } else if (ch === '*') {
      names.push(String(wildcards++));
      re += '(.*)';
      i++;
    } else if (ch === '(' || ch === '{' || ch === '\\' || ch === '+') {
      return `"${ch}" at ${i}: custom groups, regular expressions and modifiers are not supported; use ":name", ":name?" or "*"`;
    } else if (ch === '?' || ch === '#') {
      return `"${ch}" at ${i}: a pattern names a path only; query strings and fragments are ignored when matching`;
    } else {
      re += ch.replace(/[.^$|[\]()/]/g, '\\$&');
      i++;
    }
  }
  const first = /^\/([^/:*]*)(?:\/|$)/.exec(source);
  return {
    source,
    regexp: new RegExp(`^${re}$`),
    names,
    firstSegment: first ? first[1] : undefined,
  };
}

/** Matches a URL's pathname; returns the parameters, or undefined. */
export function execPattern(pattern: CompiledPattern, pathname: string): Record<string, string> | undefined {
  const m = pattern.regexp.exec(pathname);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  pattern.names.forEach((name, i) => {
    const value = m[i + 1];
    if (value !== undefined) params[name] = value;
  });
  return params;
}
