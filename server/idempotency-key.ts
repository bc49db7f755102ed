/**
 * The `Idempotency-Key` request header, as draft-ietf-httpapi-idempotency-key-header
 * defines it: an RFC 8941 Item whose value is a String (`"…"`), parameters
 * allowed and ignored. Clients that predate the draft send the key bare
 * (`Idempotency-Key: 8e03978e-…`, Stripe-style); such a token is accepted
 * unless `strict`. Anything else is an error the client must fix, never a
 * reason to run the request without its key.
 */

/** Longest key accepted, in characters (after unescaping); the draft leaves it to servers, and its examples stay well under. */
export const MAX_KEY_LENGTH = 255; // characters

export type KeyErrorCode = 'idempotency-key-malformed' | 'idempotency-key-multiple' | 'idempotency-key-too-long' | 'idempotency-key-unquoted';

export type ParsedKey =
  /** No `Idempotency-Key` header. */
  | { kind: 'absent' }
  | { kind: 'key'; key: string }
  /** `message` says what was wrong and how to send it instead. */
  | { kind: 'invalid'; code: KeyErrorCode; message: string };

export interface ParseKeyOptions {
  /** Refuse a bare token: only the draft's quoted String is a key. @default false */
  strict?: boolean;
}

const EXAMPLE = 'Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"';

// RFC 8941 §3.3.3: printable ASCII, with `"` and `\` escaped by a backslash.
const SF_STRING = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"/;
// A bare key: RFC 9110 tchar plus the `:` and `/` RFC 8941 tokens allow. Unlike an sf-token it may start with a digit, as bare UUIDs do.
const BARE_TOKEN = /^[A-Za-z0-9!#$%&'*+\-.^_`|~:/]+/;
// RFC 8941 §3.1.2 parameters, each `;key[=bare-item]`.
const PARAMETER =
  /^[ \t]*;[ ]*[a-z*][a-z0-9_\-.*]*(?:=(?:-?\d{1,15}(?:\.\d{1,3})?|"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*"|[A-Za-z*][\x21\x23-\x27\x2a\x2b\x2d-\x3a\x3c-\x5a\x5e-\x7a\x7c\x7e]*|:[A-Za-z0-9+/=]*:|\?[01]))?/;

const invalid = (code: KeyErrorCode, message: string): ParsedKey => ({ kind: 'invalid', code, message });

/**
 * Parses the header's field lines: `values` as node's `req.headersDistinct`
 * gives them (one string per line), or one string (node's joined value,
 * `Headers.get`). Never throws.
 */
export function parseIdempotencyKey(values: readonly string[] | string | null | undefined, options: ParseKeyOptions = {}): ParsedKey {
  const lines = values == null ? [] : typeof values === 'string' ? [values] : values;
  if (lines.length === 0) return { kind: 'absent' };
  if (lines.length > 1) {
    return invalid('idempotency-key-multiple', `The request has ${lines.length} Idempotency-Key header lines; send exactly one key, e.g. ${EXAMPLE}.`);
  }
  const field = lines[0]!.trim();
  let rest: string;
  let key: string;
  const quoted = SF_STRING.exec(field);
  if (quoted) {
    key = quoted[1]!.replace(/\\(["\\])/g, '$1');
    rest = field.slice(quoted[0].length);
  } else {
    const bare = BARE_TOKEN.exec(field);
    if (!bare) return malformed(field);
    if (options.strict) {
      return invalid(
        'idempotency-key-unquoted',
        `Idempotency-Key must be a quoted Structured-Field string; got the bare token ${bare[0]}. Quote it: Idempotency-Key: "${bare[0]}".`,
      );
    }
    key = bare[0];
    rest = field.slice(bare[0].length);
  }
  for (let param = PARAMETER.exec(rest); param; param = PARAMETER.exec(rest)) rest = rest.slice(param[0].length);
  rest = rest.trim();
  if (rest.startsWith(',')) {
    return invalid('idempotency-key-multiple', `Idempotency-Key holds a list of keys (${field}); send exactly one key, e.g. ${EXAMPLE}.`);
  }
  if (rest !== '' || key === '') return malformed(field);
  if (key.length > MAX_KEY_LENGTH) {
    return invalid('idempotency-key-too-long', `Idempotency-Key is ${key.length} characters long; send a key of 1 to ${MAX_KEY_LENGTH} characters (a UUID is 36).`);
  }
  return { kind: 'key', key };
}

function malformed(field: string): ParsedKey {
  const shown = field.length > 80 ? `${field.slice(0, 80)}…` : field;
  return invalid(
    'idempotency-key-malformed',
    `Idempotency-Key ${JSON.stringify(shown)} is not a Structured-Field string; send one key of 1 to ${MAX_KEY_LENGTH} printable ASCII characters in double quotes, e.g. ${EXAMPLE}.`,
  );
}
