/**
 * A small REST server's logic, shared by the integration tests (behind MSW)
 * and the end-to-end tests (behind the real test server): collections under
 * `/api/<name>` with server-assigned integer ids, strong ETags, If-Match
 * (412 on a mismatch), If-None-Match (304), `updatedAt`, `Location` on a
 * create, and `Idempotency-Key` honoured (a repeated key gets the stored
 * answer). Everything it was asked is in `log`, in order.
 */
import { mergePatch } from '../../sw/overlay/merge-patch.js';

export interface RestRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface RestReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface Stored {
  item: Record<string, unknown>;
  version: number;
}

export interface RestChange {
  resource: string;
  id: string;
  type: 'created' | 'updated' | 'deleted';
  version: number;
}

/** `onChange` hears every change the store makes (a server would broadcast it as a change notice). */
export function createRestStore(options: { clock?: () => number; onChange?: (change: RestChange) => void } = {}) {
  const clock = options.clock ?? Date.now;
  const collections = new Map<string, Map<string, Stored>>();
  const answered = new Map<string, RestReply>();
  let nextId = 1;
  const log: { method: string; url: string; ifMatch?: string; ifNoneMatch?: string; key?: string; body: string }[] = [];

  const collection = (name: string) => {
    let items = collections.get(name);
    if (!items) collections.set(name, (items = new Map()));
    return items;
  };
  const etag = (s: Stored) => `"${String(s.item.id)}-v${s.version}"`;
  const reply = (status: number, body?: unknown, headers: Record<string, string> = {}): RestReply => ({
    status,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  });
  const itemReply = (status: number, s: Stored, extra: Record<string, string> = {}) => reply(status, s.item, { etag: etag(s), ...extra });

  function answer(request: RestRequest): RestReply {
    const url = new URL(request.url, 'http://x');
    const [, api, name, id, extra] = url.pathname.split('/');
    if (api !== 'api' || !name || extra !== undefined) return reply(404, { error: 'no such route' });
    const items = collection(name);
    const method = request.method;
    const body = request.body ? (JSON.parse(request.body) as Record<string, unknown>) : {};
    const now = new Date(clock()).toISOString();
    if (id === undefined) {
      if (method === 'GET') {
        let list = [...items.values()].map((s) => s.item);
        for (const [k, v] of url.searchParams) list = list.filter((item) => String(item[k]) === v);
        return reply(200, list);
      }
      if (method !== 'POST') return reply(405, { error: 'method' });
      const s: Stored = { item: { ...body, id: nextId++, updatedAt: now }, version: 1 };
      items.set(String(s.item.id), s);
      options.onChange?.({ resource: name, id: String(s.item.id), type: 'created', version: 1 });
      return itemReply(201, s, { location: `/api/${name}/${String(s.item.id)}` });
    }
    const s = items.get(id);
    if (method === 'GET') {
      if (!s) return reply(404, { error: 'not found' });
      if (request.headers['if-none-match'] === etag(s)) return { status: 304, headers: { etag: etag(s) }, body: '' };
      return itemReply(200, s);
    }
    if (!s) return reply(404, { error: 'not found' });
    const ifMatch = request.headers['if-match'];
    if (ifMatch && ifMatch !== etag(s)) return reply(412, { error: 'changed', current: s.item }, { etag: etag(s) });
    if (method === 'DELETE') {
      items.delete(id);
      options.onChange?.({ resource: name, id, type: 'deleted', version: s.version + 1 });
      return reply(204);
    }
    const next = method === 'PUT' ? { ...body, id: s.item.id } : (mergePatch(s.item, body) as Record<string, unknown>);
    const updated: Stored = { item: { ...next, id: s.item.id, updatedAt: now }, version: s.version + 1 };
    items.set(id, updated);
    options.onChange?.({ resource: name, id, type: 'updated', version: updated.version });
    return itemReply(200, updated);
  }

  return {
    log,
    handle(request: RestRequest): RestReply {
      const key = request.headers['idempotency-key'];
      log.push({ method: request.method, url: request.url, ifMatch: request.headers['if-match'], ifNoneMatch: request.headers['if-none-match'], key, body: request.body });
      if (key && answered.has(key)) return answered.get(key)!;
      const result = answer(request);
      if (key && request.method !== 'GET' && result.status < 500) answered.set(key, result);
      return result;
    },
    /** Puts an item in directly (seeding), as another client would have; returns it. */
    seed(name: string, item: Record<string, unknown>): Record<string, unknown> & { id: number } {
      const s: Stored = { item: { ...item, id: nextId++, updatedAt: new Date(clock()).toISOString() }, version: 1 };
      collection(name).set(String(s.item.id), s);
      return s.item as Record<string, unknown> & { id: number };
    },
    /** Changes an item as another client would (a new version, a new ETag), at `at` (default now). */
    edit(name: string, id: number | string, patch: Record<string, unknown>, at = clock()): void {
      const s = collection(name).get(String(id))!;
      collection(name).set(String(id), {
        item: { ...(mergePatch(s.item, patch) as object), updatedAt: new Date(at).toISOString() } as Record<string, unknown>,
        version: s.version + 1,
      });
      options.onChange?.({ resource: name, id: String(id), type: 'updated', version: s.version + 1 });
    },
    items: (name: string) => [...collection(name).values()].map((s) => s.item),
    reset() {
      collections.clear();
      answered.clear();
      log.length = 0;
      nextId = 1;
    },
  };
}

export type RestStore = ReturnType<typeof createRestStore>;
