/**
 * The todos resource and what the REST API does with it. Items are
 * `{ id, title, done, updatedAt }`, each with a version that grows with every
 * change (kept after a delete too, so a re-created id never reuses an ETag or
 * a notice version). `handle` answers one parsed request with a reply
 * `{ status, headers, body }` and the change it made, if any; the server does
 * the HTTP, the saving and the broadcasting.
 *
 *   GET    /api/todos[?done=true|false]   the list (strong ETag, If-None-Match)
 *   POST   /api/todos                     201, Location, ETag; a new client id in the body is kept
 *   GET    /api/todos/:id                 ETag, If-None-Match → 304
 *   PUT    /api/todos/:id                 replace; If-Match → 412 on a mismatch
 *   PATCH  /api/todos/:id                 JSON Merge Patch (RFC 7396); If-Match
 *   DELETE /api/todos/:id                 204; If-Match
 */
import { randomUUID } from 'node:crypto';
import { evaluatePreconditions, strongEtag } from 'offline-outbox/server';

export const MAX_TITLE_LENGTH = 500; // characters
/** Client ids go into URLs and ETags as they are, so they keep to unreserved URL characters. */
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,199}$/;
const COLLECTION_METHODS = 'GET, HEAD, POST';
const ITEM_METHODS = 'GET, HEAD, PUT, PATCH, DELETE';

const SAMPLES = [
  { title: 'Water the plants', done: true },
  { title: 'Book the train tickets', done: false },
  { title: 'Try this page offline', done: false },
];

export const json = (status, value, headers = {}) => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: JSON.stringify(value),
});
const fail = (status, error, extra = {}) => json(status, { error, ...extra });
const notAllowed = (method, path, allow) => json(405, { error: `${method} is not allowed on ${path}; use ${allow}` }, { allow });
const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);

/** RFC 7396. */
export function mergePatch(target, patch) {
  if (!isObject(patch)) return patch;
  const result = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function readObject(body) {
  let value;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return { error: fail(400, `the body is not JSON (${error.message}); send an object such as {"title": "Buy milk"}`) };
  }
  if (!isObject(value)) return { error: fail(422, 'the body must be a JSON object, such as {"title": "Buy milk"}') };
  return { value };
}

/** The stored fields from a body; other fields (`updatedAt`, `_pending`, …) are ignored. */
function checkFields(body) {
  const { title, done } = body;
  if (typeof title !== 'string' || title.trim() === '' || [...title].length > MAX_TITLE_LENGTH)
    return { error: fail(422, `title must be a non-empty string of at most ${MAX_TITLE_LENGTH} characters`, { field: 'title' }) };
  if (done !== undefined && typeof done !== 'boolean') return { error: fail(422, 'done must be true or false', { field: 'done' }) };
  return { fields: { title, done: done ?? false } };
}

/** `saved` is what `toJSON()` gave before; without it, the store starts with three sample todos. */
export function createTodos(saved, clock = Date.now) {
  const items = new Map();
  const versions = new Map(Object.entries(saved?.versions ?? {}));
  const now = () => new Date(clock()).toISOString();
  if (saved) for (const item of saved.todos) items.set(item.id, item);
  else
    for (const sample of SAMPLES) {
      const id = randomUUID();
      items.set(id, { id, ...sample, updatedAt: now() });
      versions.set(id, 1);
    }

  const etagOf = (item) => `"${item.id}-${versions.get(item.id)}"`;
  const itemReply = (status, item, headers = {}) => json(status, item, { etag: etagOf(item), ...headers });

  function put(id, fields, type) {
    const item = { id, ...fields, updatedAt: now() };
    const version = (versions.get(id) ?? 0) + 1;
    items.set(id, item);
    versions.set(id, version);
    return { item, change: { resource: 'todos', id, type, version } };
  }

  function list(query, headers) {
    const done = query.get('done');
    if (done !== null && done !== 'true' && done !== 'false') return fail(400, `done must be true or false; got "${done}"`);
    const body = JSON.stringify([...items.values()].filter((item) => done === null || String(item.done) === done));
    const etag = strongEtag(body);
    if (evaluatePreconditions('GET', undefined, headers['if-none-match'], etag).kind === 'not-modified') return { status: 304, headers: { etag }, body: '' };
    return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8', etag }, body };
  }

  function create(body) {
    const { value, error } = readObject(body);
    if (error) return { reply: error };
    if (value.id !== undefined && (typeof value.id !== 'string' || !CLIENT_ID.test(value.id)))
      return { reply: fail(422, 'id must be a string of letters, digits, ".", "_", "~" or "-" (at most 200), such as a UUID; or leave it out', { field: 'id' }) };
    const checked = checkFields(value);
    if (checked.error) return { reply: checked.error };
    // A client-made id is kept when it is new; a taken one gets a fresh id rather than touching the other item.
    const id = value.id !== undefined && !items.has(value.id) ? value.id : randomUUID();
    const { item, change } = put(id, checked.fields, 'created');
    return { reply: itemReply(201, item, { location: `/api/todos/${encodeURIComponent(id)}` }), change };
  }

  function update(method, current, body) {
    const { value, error } = readObject(body);
    if (error) return { reply: error };
    const next = method === 'PUT' ? value : mergePatch(current, value);
    if (next.id !== undefined && next.id !== current.id) return { reply: fail(422, `id cannot change (the URL says "${current.id}")`, { field: 'id' }) };
    if (method === 'PATCH' && next.id === undefined) return { reply: fail(422, 'id cannot be removed', { field: 'id' }) };
    const checked = checkFields(next);
    if (checked.error) return { reply: checked.error };
    const { item, change } = put(current.id, checked.fields, 'updated');
    return { reply: itemReply(200, item), change };
  }

  return {
    /** `method` is GET for HEAD; `id` is undefined for the collection; `body` is the request body as text. */
    handle(method, id, { query, headers, body }) {
      if (id === undefined) {
        if (method === 'GET') return { reply: list(query, headers) };
        if (method === 'POST') return create(body);
        return { reply: notAllowed(method, '/api/todos', COLLECTION_METHODS) };
      }
      if (!['GET', 'PUT', 'PATCH', 'DELETE'].includes(method)) return { reply: notAllowed(method, '/api/todos/:id', ITEM_METHODS) };
      const current = items.get(id);
      // Preconditions are ignored when the answer would be an error anyway (RFC 9110 §13.2.1).
      if (!current) return { reply: fail(404, `no todo has the id "${id}"`) };
      const etag = etagOf(current);
      if (method === 'GET')
        return {
          reply:
            evaluatePreconditions('GET', undefined, headers['if-none-match'], etag).kind === 'not-modified'
              ? { status: 304, headers: { etag }, body: '' }
              : itemReply(200, current),
        };
      // If-Match only on writes, as before: If-None-Match on a write is not part of this API.
      if (evaluatePreconditions(method, headers['if-match'], undefined, etag).kind === 'failed')
        return { reply: json(412, { error: `the todo has changed since ${headers['if-match']}; read it again (its ETag is ${etag}) and resend`, current }, { etag }) };
      if (method === 'DELETE') {
        items.delete(id);
        const version = versions.get(id) + 1;
        versions.set(id, version);
        return { reply: { status: 204, headers: {}, body: '' }, change: { resource: 'todos', id, type: 'deleted', version } };
      }
      return update(method, current, body);
    },
    toJSON: () => ({ todos: [...items.values()], versions: Object.fromEntries(versions) }),
  };
}
