/**
 * Notices that only echo the worker's own writes. A server that publishes a
 * notice for each write tells the writer its cursor (`X-Change-Cursor` on the
 * write's answer); the notice with that cursor then comes back through the
 * feed, and refetching for it would only repeat a refresh the worker made.
 *
 * The answer's cursor alone proves nothing about the cache: what makes a
 * notice skippable is that the worker refreshed the entries it names *after*
 * the write was answered. So a cursor counts only once such a refresh has run:
 *
 * 1. `answered`: a write to a declared item was answered with a cursor (a
 *    replay, or a live write the worker follows with a refresh). It waits.
 * 2. `refreshing`: the item's cached entries (the item and every cached
 *    variant of its collection, as a notice would refetch) are being
 *    refreshed, which starts after the answer. Its cursors now wait for that
 *    refresh.
 * 3. `covers`: a notice with one of those cursors, about that same item, is
 *    skipped once the refresh has left nothing stale (a refetch that got no
 *    answer, or one the cache would not keep, makes the notice count).
 *
 * A write that no refresh follows (not a declared resource's item, or its
 * item still has writes waiting) never reaches step 2, so its notice is
 * applied as usual: skipping it would leave the collection cache stale. A
 * notice that arrives before step 2 is applied too (one redundant refetch).
 * Notices are coalesced per item, the one received last kept: a feed sends
 * them in cursor order, so when that one is our echo, the ones before it
 * were published before our write's answer and the refresh after it shows them.
 *
 * All of it is in memory: a restarted worker refetches (never the reverse).
 */
import type { Notice } from '../../common/notice.js';

/** The most cursors remembered (waiting and refreshed together); past it the oldest go, and their notices are applied as usual. */
const MAX_ECHOES = 1000;

export function createEchoes() {
  /** Cursors of answered writes, by item (`"<resource> <id>"`), waiting for the item's refresh. */
  const waiting = new Map<string, string[]>();
  /** Cursor → its item, and whether the refresh that followed its write left nothing stale. */
  const refreshed = new Map<string, { item: string; fresh: Promise<boolean> }>();
  let count = 0;

  const bound = () => {
    for (const cursor of refreshed.keys()) {
      if (count + refreshed.size <= MAX_ECHOES) return;
      refreshed.delete(cursor);
    }
    for (const [item, cursors] of waiting) {
      if (count + refreshed.size <= MAX_ECHOES) return;
      waiting.delete(item);
      count -= cursors.length;
    }
  };

  return {
    /** A write to item `id` of `resource` was answered with `cursor` (its X-Change-Cursor). */
    answered(resource: string, id: string, cursor: string | null | undefined): void {
      if (!cursor) return;
      const item = `${resource} ${id}`;
      waiting.set(item, [...(waiting.get(item) ?? []), cursor]);
      count++;
      bound();
    },
    /** The cached entries of `resource`'s items `ids` are being refreshed; `fresh` resolves with whether none was left stale. */
    refreshing(resource: string, ids: readonly string[], fresh: Promise<boolean>): void {
      const safe = fresh.catch(() => false);
      for (const id of ids) {
        const item = `${resource} ${id}`;
        const cursors = waiting.get(item);
        if (!cursors) continue;
        waiting.delete(item);
        count -= cursors.length;
        for (const cursor of cursors) refreshed.set(cursor, { item, fresh: safe });
      }
      bound();
    },
    /** Whether `notice` echoes a write whose refresh brought its entries up to date (resolves once that refresh is over). */
    async covers(notice: Notice): Promise<boolean> {
      const echo = notice.cursor === undefined ? undefined : refreshed.get(notice.cursor);
      // Kept after use: the same notice may come again (the stream, then a catch-up).
      return !!echo && echo.item === `${notice.resource} ${notice.id}` && echo.fresh;
    },
    forget(): void {
      waiting.clear();
      refreshed.clear();
      count = 0;
    },
  };
}

export type Echoes = ReturnType<typeof createEchoes>;
