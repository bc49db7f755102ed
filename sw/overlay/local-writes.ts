/** A declared resource's queued writes, as the overlay applies them. */
import type { Claimed } from '../outbox/store.js';
import { resourceIsBusy, resourceWrites } from '../outbox/store.js';
import type { LocalWrite } from './apply.js';

/** A body's JSON value, or undefined when it is empty or not JSON. */
export function parseJson(body: ArrayBuffer | null | undefined): unknown {
  if (!body?.byteLength) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
}

export const toLocalWrite = ({ entry, body }: Claimed): LocalWrite => ({ method: entry.method, id: entry.itemId!, body: parseJson(body) });

/**
 * The resource's live writes in order (`group`: one item's only, without
 * reading the other items' bodies); no storage read when it has none.
 */
export async function localWrites(resource: string, group?: string): Promise<LocalWrite[]> {
  if (!(await resourceIsBusy(resource))) return [];
  return (await resourceWrites(resource, group)).filter((c) => c.entry.itemId !== undefined).map(toLocalWrite);
}
