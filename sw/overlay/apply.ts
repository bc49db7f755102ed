/**
 * The read-your-writes algebra: the server's last answer (the base) plus the
 * local writes to one resource still in the outbox, applied in their order.
 * Pure: no storage, no network, so every rule is a unit test.
 *
 * - POST creates the item (appended to the collection; an id already listed
 *   is replaced, as the server would after an idempotent retry).
 * - PUT replaces the item, or creates it when it is not there.
 * - PATCH merges (JSON Merge Patch) into the item; a PATCH of an item that
 *   is not there, or whose body is not a JSON object, changes nothing (the
 *   server would answer 404, or 400).
 * - DELETE removes the item; the item URL then answers 404.
 */
import { isObject } from '../shared/json.js';
import { mergePatch } from './merge-patch.js';

/** One local write, as the overlay needs it. */
export interface LocalWrite {
  method: string;
  /** The item's id (from the URL, the body, or the id given to a create). */
  id: string;
  /** The parsed JSON body; undefined for a DELETE or a body that is not JSON. */
  body?: unknown;
}

export interface ItemShape {
  idField: string;
  /** Set to `true` on items that carry a local change (the resource's `pendingField`). */
  pendingField?: string;
}

/** `"data.items"` → the array inside a wrapped collection. */
export function itemsAt(base: unknown, itemsPath: string | undefined): unknown {
  let value = base;
  for (const key of itemsPath ? itemsPath.split('.') : []) value = isObject(value) ? value[key] : undefined;
  return value;
}

/** A copy of `base` with the array at `itemsPath` replaced. */
function withItems(base: unknown, itemsPath: string | undefined, items: unknown[]): unknown {
  if (!itemsPath) return items;
  const [key, ...rest] = itemsPath.split('.');
  const outer = isObject(base) ? base : {};
  return { ...outer, [key!]: withItems(outer[key!], rest.join('.') || undefined, items) };
}

/** What one write makes of one item (`undefined`: the item does not exist). */
function step(item: unknown, write: LocalWrite, shape: ItemShape): unknown {
  switch (write.method) {
    case 'DELETE':
      return undefined;
    case 'PATCH':
      // A merge patch that is not an object would replace the whole item
      // (RFC 7396) with something that is no item (`null`, a string): no
      // server takes that for a resource, so the overlay ignores it, as it
      // ignores a POST or PUT whose body is not an object.
      return item === undefined || !isObject(write.body) ? item : mergePatch(item, write.body);
    default:
      // POST and PUT: the body is the item; a body without its id gets it
      // (as the item had it, number or string, else as the URL gave it).
      if (!isObject(write.body)) return item;
      if (write.body[shape.idField] != null) return write.body;
      return { ...write.body, [shape.idField]: isObject(item) && item[shape.idField] != null ? item[shape.idField] : write.id };
  }
}

const mark = (item: unknown, shape: ItemShape) => (shape.pendingField && isObject(item) ? { ...item, [shape.pendingField]: true } : item);

/**
 * The item `id` after the writes: its value, or undefined when it does not
 * exist (deleted locally, or never there). `base` is the server's item, or
 * undefined when there is none.
 */
export function overlayItem(base: unknown, id: string, writes: LocalWrite[], shape: ItemShape): unknown {
  let item = base;
  let touched = false;
  for (const write of writes) {
    if (write.id !== id) continue;
    item = step(item, write, shape);
    touched = true;
  }
  return touched ? mark(item, shape) : item;
}

/**
 * The collection after the writes, or undefined when the base is not the
 * expected shape (then it is served as it is). `base` undefined: no base yet,
 * an empty collection.
 *
 * Each write finds its item through an index of ids (the first item with
 * that id, as a search from the start would), so a GET with 1,000 writes
 * waiting costs about what one with 10 does: items a write deletes leave an
 * empty slot until the end rather than shifting every later one.
 */
export function overlayCollection(base: unknown, writes: LocalWrite[], shape: ItemShape & { itemsPath?: string }): unknown {
  const items = base === undefined ? [] : itemsAt(base, shape.itemsPath);
  if (!Array.isArray(items)) return undefined;
  // An item without an id is no write's: String(undefined) is "undefined", which is also an id a page can send.
  const idOf = (item: unknown) => (isObject(item) && item[shape.idField] != null ? String(item[shape.idField]) : undefined);
  const result: unknown[] = [...items];
  const gone = new Set<number>();
  /** id → the first slot holding it; `shared`: ids more than one slot has held (only those are searched for again). */
  const first = new Map<string, number>();
  const shared = new Set<string>();
  const note = (id: string | undefined, at: number) => {
    if (id === undefined) return;
    const known = first.get(id);
    if (known === undefined || known > at) first.set(id, at);
    if (known !== undefined && known !== at) shared.add(id);
  };
  /** Slot `at` no longer holds `id`: the next slot that does, if any. */
  const vacate = (id: string, at: number) => {
    if (first.get(id) !== at) return;
    first.delete(id);
    if (!shared.has(id)) return;
    const next = result.findIndex((item, i) => !gone.has(i) && idOf(item) === id);
    if (next !== -1) first.set(id, next);
  };
  result.forEach((item, i) => note(idOf(item), i));
  const touched = new Set<string>();
  for (const write of writes) {
    const at = first.get(write.id) ?? -1;
    const next = step(at === -1 ? undefined : result[at], write, shape);
    if (next === undefined) {
      if (at !== -1) {
        gone.add(at);
        vacate(write.id, at);
      }
      touched.delete(write.id);
      continue;
    }
    const slot = at === -1 ? result.push(next) - 1 : at;
    result[slot] = next;
    const id = idOf(next);
    if (at !== -1 && id !== write.id) vacate(write.id, at);
    note(id, slot);
    touched.add(write.id);
  }
  const marked: unknown[] = [];
  result.forEach((item, i) => {
    if (gone.has(i)) return;
    const id = idOf(item);
    marked.push(id !== undefined && touched.has(id) ? mark(item, shape) : item);
  });
  return withItems(base, shape.itemsPath, marked);
}
