/**
 * What a conflict (409/412 on replay) does, per the route's
 * `queue.conflict`: one table from policy name to behaviour (the names are
 * common/manifest.ts's CONFLICT_POLICIES; the compiler checks they agree).
 */
import type { ConflictPolicy } from '../manifest/types.js';
import { isObject } from '../shared/json.js';
import { tellScope } from '../shared/broadcast.js';
import { rekeyed, type OutboxEntry } from './entry.js';
import type { Outcome } from './outcome.js';
import { removeEntry, saveEntry } from './store.js';

/** One conflict: the write, the status, both versions, and how to mark its item for revalidation. */
export interface Conflict {
  entry: OutboxEntry;
  status: number;
  local: unknown;
  server: unknown;
  serverEtag?: string;
  touch(entry: OutboxEntry): void;
}

const PRECONDITIONS = ['if-match', 'if-none-match', 'if-unmodified-since', 'if-modified-since'];
const lastError = (c: Conflict) => `HTTP ${c.status}: conflict`;
const tell = (c: Conflict, resolution: 'parked' | 'server-wins' | 'client-wins') =>
  tellScope('conflict', { id: c.entry.id, status: c.status, resolution, local: c.local, server: c.server });

/** Parked for a person (retry, discard, replace); its group waits. */
async function manual(c: Conflict): Promise<Outcome> {
  await saveEntry({ ...c.entry, state: 'conflict', server: c.server, local: c.local, serverEtag: c.serverEtag, lastStatus: c.status, lastError: lastError(c) });
  tell(c, 'parked');
  return 'conflict';
}

/** The local change is dropped; the item is revalidated to the server's version. */
async function serverWins(c: Conflict): Promise<Outcome> {
  await removeEntry(c.entry.seq!);
  c.touch(c.entry);
  tell(c, 'server-wins');
  return 'done';
}

/** Resent once without preconditions (a new key: a new payload's request); refused again, a person decides. */
async function clientWins(c: Conflict): Promise<Outcome> {
  if (c.entry.forced) return manual(c);
  await saveEntry({ ...c.entry, ...rekeyed(c.entry, PRECONDITIONS), forced: true, state: 'pending', nextAttemptAt: Date.now(), lastStatus: c.status, lastError: lastError(c) });
  tell(c, 'client-wins');
  return 'retry';
}

/** The later of the local change and the server's `updatedAtField` wins; unknowable, a person decides. */
function newestWins(c: Conflict): Promise<Outcome> {
  const field = c.entry.policy.updatedAtField;
  const value = field && isObject(c.server) ? c.server[field] : undefined;
  // Numbers are epoch seconds or milliseconds; strings, dates.
  const at = typeof value === 'number' ? (value < 1e11 ? value * 1000 : value) : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) return manual(c);
  return c.entry.createdAt > at ? clientWins(c) : serverWins(c);
}

export const CONFLICT_POLICIES: Record<ConflictPolicy, (conflict: Conflict) => Promise<Outcome>> = {
  manual,
  'server-wins': serverWins,
  'client-wins': clientWins,
  'newest-wins': newestWins,
};
