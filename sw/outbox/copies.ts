/**
 * Copies of a queued write. Chromium dispatches a page's unanswered fetch
 * once more, to a fresh worker, when the worker handling it is stopped (the
 * chaos suite's worker kills do it): a write the stopped instance had
 * already committed to the outbox, but not yet answered, then arrives again.
 * Queued a second time, under a new key, it would be applied twice. So each
 * queued write leaves a short-lived record under its fingerprint (page,
 * method, URL, body; live-sends.ts), and a young instance answers a write
 * whose record another instance left from that entry instead.
 *
 * Only a young instance looks: a copy comes to the worker started to take
 * it, within seconds. A repeat the page meant (the same write twice) comes
 * to the same instance, or, across a worker that was stopped for being idle
 * (30 s without events), after the record has lapsed. Only a worker killed
 * between the two, within the window, would merge them.
 */
import { INSTANCE } from './live-sends.js';

/** How long a queued write's record lasts, and how long an instance counts as young. */
export const COPY_WINDOW_MS = 20_000;
const startedAt = Date.now();

export interface CopyRecord {
  /** The outbox entry the write became. */
  entry: string;
  instance: string;
  until: number;
}

export const copyKey = (fingerprint: string): string => `copy ${fingerprint}`;
export const COPY_KEYS = (): IDBKeyRange => IDBKeyRange.bound('copy ', 'copy \uffff');

/** Whether this instance started recently enough to be taking a stopped one's fetches. */
export const isYoung = (): boolean => Date.now() - startedAt < COPY_WINDOW_MS;

/** The entry `record` says this write already is: left by another instance, and not lapsed. */
export const copiedEntry = (record: CopyRecord | undefined, now: number): string | undefined =>
  record && record.instance !== INSTANCE && record.until > now ? record.entry : undefined;

export const copyRecord = (entry: string, now: number): CopyRecord => ({ entry, instance: INSTANCE, until: now + COPY_WINDOW_MS });
