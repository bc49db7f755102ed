/** A declared resource's queued writes, as the overlay applies them. */
import type { LocalWrite } from '../overlay/apply.js';
import { parseJson } from '../shared/json.js';
import type { OutboxEntry } from './entry.js';
import { resourceIsBusy, resourceWrites } from './store.js';

/**
 * Parsed bodies of queued writes, kept across reads: a GET then reads the
 * entries' metadata, not every body again. Keyed by what changes when a body
 * is replaced (a resolution's new key, a rewritten id's new length); bounded.
 */
const parsed = new Map<string, unknown>();
const MAX_PARSED = 2000;
const keyOf = (e: OutboxEntry) => `${e.seq} ${e.key} ${e.bodyBytes}`;

/**
 * The resource's live writes in order (`group`: one item's only, without
 * reading the other items' bodies); no storage read when it has none.
 */
export async function localWrites(resource: string, group?: string): Promise<LocalWrite[]> {
  if (!(await resourceIsBusy(resource))) return [];
  const writes = (await resourceWrites(resource, group, (e) => parsed.has(keyOf(e)))).filter(({ entry }) => entry.itemId !== undefined);
  // Values already held are taken before new ones are added (adding may evict).
  const values = writes.map(({ entry, body }) => (body === undefined ? parsed.get(keyOf(entry)) : parseJson(body)));
  writes.forEach(({ entry, body }, i) => {
    if (body === undefined) return;
    if (parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value!);
    parsed.set(keyOf(entry), values[i]);
  });
  return writes.map(({ entry }, i) => ({ method: entry.method, id: entry.itemId!, body: values[i] }));
}
