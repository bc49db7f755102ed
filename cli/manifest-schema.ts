/**
 * The manifest's JSON Schema (draft 2020-12), for editors: the build writes
 * it to dist/manifest.schema.json and a manifest names it in `"$schema"`.
 * Every list of names comes from common/manifest.ts, as the validator's do.
 *
 * The schema says what one field may hold, and the rules between fields of
 * one route; what needs the whole manifest (a route's resource is declared,
 * a route shadows another, a precache URL is served from the cache,
 * newest-wins finds its resource's updatedAtField) only `offline-outbox
 * check` reports. test/unit/manifest-schema.test.ts holds the two to
 * agreeing everywhere else.
 */
import {
  CACHE_STRATEGIES,
  CONFLICT_DETECTIONS,
  CONFLICT_POLICIES,
  HTTP_METHODS,
  ID_SOURCES,
  NETWORK_TIMEOUT_STRATEGIES,
  PRIORITY_NAMES,
  WRITE_METHODS,
  type CacheStrategyName,
  type ConflictDetection,
  type ConflictPolicy,
  type IdSource,
} from '../common/manifest.js';

export type JsonSchema = { [keyword: string]: unknown };

// Regular expressions in ECMA-262 syntax with the `u` flag, as JSON Schema
// validators (and editors) run them. Each restates a check of
// sw/manifest/validate.ts or pattern.ts; the schema test compares them on
// generated strings.
const NAME = '[A-Za-z_$][\\w$]*';
/**
 * compilePattern's syntax: literal text, `*`, `:name` (the whole name: the
 * lookahead also keeps matching linear), `:name?` right after "/"; no
 * parameter named twice.
 */
export const PATTERN_REGEX = `^(?![\\s\\S]*:(${NAME})(?![\\w$])[\\s\\S]*:\\1(?![\\w$]))(?=/)(?:/:${NAME}\\?|:${NAME}(?![\\w$])|\\*|[^:*({\\\\+?#])*$`;
/** An item pattern names its id with one parameter, after any literal prefix. */
const ITEM_REGEX = '^[^:*]*:[\\w$]+(?:/[^:*?]*)?$';
/** A path that stays on the page's origin: the URL parser drops tabs and newlines and reads "\" as "/", so "/\host" names another host. */
const PATH_REGEX = '^/(?![\\t\\n\\r]*[/\\\\])';
const URL_PATH_REGEX = `${PATH_REGEX}[^#]*$`;
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const PORT = '(?:0|[1-9]\\d{0,3}|[1-5]\\d{4}|6[0-4]\\d{3}|65[0-4]\\d{2}|655[0-2]\\d|6553[0-5])';
/** A name label; "xn--" ones are left out: the URL parser rejects what is not valid punycode, which a pattern cannot tell. */
const LABEL = '(?!xn--)[a-z0-9_-]+';
/**
 * What the URL parser keeps as it is: a lowercase host of name labels whose
 * last is not a number (that would be read as an IPv4 address), or a dotted
 * IPv4 address, and a port other than the scheme's default.
 */
export const ORIGIN_REGEX = `^(?!https://[^/]*:443$)(?!http://[^/]*:80$)https?://(?:(?:${LABEL}\\.)*(?![0-9]+(?::|$))(?!0x[0-9a-f]*(?::|$))${LABEL}|(?:${OCTET}\\.){3}${OCTET})(?::${PORT})?$`;

const MAX_SAFE_INTEGER = Number.MAX_SAFE_INTEGER;

// What each name does, for the descriptions editors show. Keyed by the name
// types, so a name added to a list fails to compile until it is described here.
const STRATEGY_MEANINGS: Record<CacheStrategyName, string> = {
  'network-first': 'the network, stored; the cache when the network fails or takes longer than networkTimeoutSeconds',
  'stale-while-revalidate': 'the cache at once, refreshed from the network in the background',
  'cache-first': 'the cache; the network (stored) when nothing is cached: right for file names that carry a content hash',
  'network-only': 'the network only; nothing is stored or read from the cache',
  'cache-only': 'the cache only, never the network: for what "precache" stores at install',
};
const CONFLICT_MEANINGS: Record<ConflictPolicy, string> = {
  manual: 'park the write and tell the page; its group waits until the app retries, discards or replaces it',
  'server-wins': "discard the local change and revalidate the server's version",
  'client-wins': 'resend the write without preconditions',
  'newest-wins': "keep whichever is newer, the local change or the server item (by the resource's updatedAtField)",
};
const DETECTION_MEANINGS: Record<ConflictDetection, string> = {
  etag: 'send If-Match with the cached ETag when the app sent no precondition',
  none: 'send no precondition',
};
const ID_MEANINGS: Record<IdSource, string> = {
  'client-uuid': 'the worker fills a missing id field with a UUID',
  server: "a create is sent as it is; the server's id replaces the temporary one in later queued writes and the overlay",
};

/** A line per name, after the field's own sentence. */
const meanings = <T extends string>(names: readonly T[], meaning: Record<T, string>): string => names.map((n) => `\n- "${n}": ${meaning[n]}`).join('');

const string = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', minLength: 1, description, ...extra });
const count = (description: string): JsonSchema => ({ type: 'integer', minimum: 1, maximum: MAX_SAFE_INTEGER, description });
const seconds = (description: string): JsonSchema => ({ type: 'number', exclusiveMinimum: 0, description });
const flag = (description: string): JsonSchema => ({ type: 'boolean', default: false, description });
const names = (list: readonly string[], description: string, fallback?: string): JsonSchema => ({
  enum: [...list],
  description,
  ...(fallback === undefined ? {} : { default: fallback }),
});
const object = (description: string, properties: Record<string, JsonSchema>, required: string[] = [], extra: JsonSchema = {}): JsonSchema => ({
  type: 'object',
  description,
  ...(required.length ? { required } : {}),
  properties,
  additionalProperties: false,
  ...extra,
});
/** A JSON Schema pattern for a string, several when a string must match each. */
const matching = (description: string, ...regexes: string[]): JsonSchema =>
  regexes.length === 1 ? { type: 'string', pattern: regexes[0], description } : { type: 'string', description, allOf: regexes.map((pattern) => ({ pattern })) };

const statuses = (description: string): JsonSchema => ({
  type: 'array',
  description,
  minItems: 1,
  uniqueItems: true,
  // 206 cannot be stored (the Cache API refuses partial responses); 0 is an opaque response.
  items: { anyOf: [{ const: 0 }, { type: 'integer', minimum: 100, maximum: 599, not: { const: 206 } }] },
});

const PATTERN_SYNTAX = 'URLPattern path syntax: literal text, ":name" (one segment), ":name?" (an optional segment, after "/"), "*" (anything)';

const cacheOptions = object(
  'How GET requests on this route are answered and stored.',
  {
    strategy: names(CACHE_STRATEGIES, `Where the answer comes from:${meanings(CACHE_STRATEGIES, STRATEGY_MEANINGS)}`),
    networkTimeoutSeconds: seconds(`${NETWORK_TIMEOUT_STRATEGIES.join(' and ')} only: how long to wait for the network before answering from the cache (or failing).`),
    maxEntries: count("The most responses kept in this route's cache; the least recently stored go first."),
    maxAgeSeconds: count('Responses older than this are not served from the cache and are removed.'),
    statuses: statuses('Statuses worth storing (0 is an opaque cross-origin response). Default: every 2xx but 206.'),
    private: flag('Store responses marked Cache-Control: private too.'),
    name: string("Suffix of this route's cache name. Default: the route's match."),
  },
  ['strategy'],
  {
    // The other strategies never wait for the network.
    if: { required: ['strategy'], properties: { strategy: { not: { enum: [...NETWORK_TIMEOUT_STRATEGIES] } } } },
    then: { not: { required: ['networkTimeoutSeconds'] } },
  },
);

const queueOptions = object('How writes on this route are queued when the network cannot take them, and replayed.', {
  priority: {
    description: `Replay order across groups: ${PRIORITY_NAMES.join(', ')}, or an integer from 0 (last) to 9 (first).`,
    default: 'normal',
    anyOf: [{ enum: [...PRIORITY_NAMES] }, { type: 'integer', minimum: 0, maximum: 9 }],
  },
  maxAttempts: count('Sends before the write is marked dead (kept, visible, retryable). Default: no limit.'),
  ttlSeconds: count('Age after which a queued write is marked dead instead of sent. Default: no limit.'),
  networkTimeoutSeconds: seconds('How long a send may take before the write is queued (live) or retried (replay).'),
  conflict: names(CONFLICT_POLICIES, `What to do when the server answers a conflict (409, 412):${meanings(CONFLICT_POLICIES, CONFLICT_MEANINGS)}`, 'manual'),
  detect: names(CONFLICT_DETECTIONS, `How conflicts are detected:${meanings(CONFLICT_DETECTIONS, DETECTION_MEANINGS)}`, 'etag'),
  retryStatuses: statuses('Statuses to retry unchanged, beyond 408, 429, 500, 502, 503 and 504.'),
  conflictStatuses: { ...statuses('Statuses that mean a conflict, handled by "conflict".'), default: [409, 412] },
  redactHeaders: {
    type: 'array',
    description: 'Headers never stored with a queued write (the live request keeps them).',
    minItems: 1,
    uniqueItems: true,
    items: { type: 'string', minLength: 1 },
  },
  storeCredentials: flag("Store Authorization and Proxy-Authorization with queued writes; by default a replay borrows the app's latest credentials."),
  maxBodyBytes: { ...count('Bodies larger than this are not queued: when the network fails they get a 413 JSON error.'), default: 5 * 1024 * 1024 },
});

/** A route reads when its methods (GET by default) hold GET, and writes when they hold another. */
const READS: JsonSchema = { anyOf: [{ not: { required: ['methods'] } }, { properties: { methods: { type: 'array', contains: { const: 'GET' } } } }] };
const WRITES: JsonSchema = { required: ['methods'], properties: { methods: { type: 'array', contains: { enum: [...WRITE_METHODS] } } } };

const route = object(
  'Requests this route applies to, and what the worker does with them. The first route that matches a request wins.',
  {
    match: matching(`The path the route matches, in ${PATTERN_SYNTAX}; query strings are ignored. Example: "/api/todos/:id".`, PATTERN_REGEX),
    origin: matching('Another origin the route applies to, as "https://api.example.com" (no path, no trailing "/"). Default: the worker\'s own origin.', ORIGIN_REGEX),
    methods: {
      type: 'array',
      description: 'The methods the route takes. GET is cached (needs "cache"); the others are writes, queued when the network cannot take them.',
      default: ['GET'],
      minItems: 1,
      uniqueItems: true,
      items: { enum: [...HTTP_METHODS] },
    },
    cache: cacheOptions,
    queue: queueOptions,
    resource: string('A key of "resources": the route\'s writes then show in its reads (read-your-writes), and change notices revalidate them.'),
  },
  ['match'],
  {
    allOf: [
      { if: READS, then: { required: ['cache'] }, else: { not: { required: ['cache'] } } },
      { if: WRITES, else: { not: { required: ['queue'] } } },
    ],
  },
);

const resource = object(
  'A REST resource: its collection and item URLs, so reads show pending writes and change notices map to cache entries.',
  {
    collection: matching(`The collection's path, in ${PATTERN_SYNTAX}. Example: "/api/todos".`, PATTERN_REGEX),
    item: matching(`An item's path, naming its id with one parameter. Example: "/api/todos/:id".`, PATTERN_REGEX, ITEM_REGEX),
    idField: { ...string("The item's id field in bodies."), default: 'id' },
    itemsPath: matching('Dot path of the array inside a wrapped collection, as "data.items". Default: the collection is the array.', '^[^.]+(?:\\.[^.]+)*$'),
    ids: names(ID_SOURCES, `Who makes a new item's id:${meanings(ID_SOURCES, ID_MEANINGS)}`, 'client-uuid'),
    updatedAtField: string('The field holding when an item last changed; "newest-wins" compares it.'),
    pendingField: string('A field set to true on items that carry local changes not yet sent.'),
  },
  ['collection', 'item'],
);

const changes = object("The server's change feed: notices naming what changed, so the worker revalidates only that.", {
  stream: matching('Same-origin path of the Server-Sent Events stream of change notices.', PATH_REGEX),
  websocket: matching('Same-origin path of a WebSocket of change notices.', PATH_REGEX),
  since: matching('Same-origin path of the notices missed since a cursor; holds "{cursor}". Example: "/api/changes?since={cursor}".', PATH_REGEX, '\\{cursor\\}'),
});

/** The manifest's JSON Schema, built afresh (callers may change it). */
export function manifestSchema(): JsonSchema {
  const manifest = object(
    'offline-outbox route manifest: which requests the service worker caches, which writes it queues while offline, and how. Check it with `npx offline-outbox check <file>`, which also reports what a schema cannot see (unknown resources, shadowed routes, precache URLs no route caches).',
    {
      $schema: { type: 'string', description: 'This schema, for editors; the worker ignores it.' },
      version: { const: 1, description: 'The manifest format version.' },
      routes: { type: 'array', description: 'The routes, tried in order: the first that matches a request wins.', minItems: 1, items: route },
      resources: { type: 'object', description: 'REST resources by name; routes name them in "resource".', additionalProperties: resource },
      changes,
      precache: {
        type: 'array',
        description:
          'Same-origin URLs the worker stores at install, so they answer offline before any page asked for them (the app shell). Each must be served by a GET route that answers from the cache (not network-only).',
        uniqueItems: true,
        items: matching('A same-origin path, perhaps with a query: "/app.css?v=3". No fragment.', URL_PATH_REGEX),
      },
      workboxQueues: {
        type: 'array',
        description: 'Names of workbox-background-sync queues (from an earlier Workbox worker) whose entries the worker moves into its outbox on activation.',
        uniqueItems: true,
        items: { type: 'string', minLength: 1 },
      },
    },
    ['version', 'routes'],
  );
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', title: 'offline-outbox manifest', ...manifest };
}
