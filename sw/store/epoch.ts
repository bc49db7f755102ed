/**
 * The log-out fence. `clear()` ends an epoch: every fetch the worker started
 * for the old one (replays, live writes, revalidations, catch-ups) is aborted
 * through the epoch's signal, and every write-back that began before it
 * checks `isCurrent` first, so nothing from before a log-out is stored,
 * cached or sent after it.
 */
let epoch = 0;
let controller = new AbortController();

/** The current epoch: capture it when work starts, check it with `isCurrent` before writing back. */
export const currentEpoch = (): number => epoch;

export const isCurrent = (at: number): boolean => at === epoch;

/** Aborted when the epoch ends. */
export const epochSignal = (): AbortSignal => controller.signal;

/** Ends the epoch: aborts its fetches and starts the next. */
export function endEpoch(): void {
  epoch++;
  controller.abort(new DOMException('the outbox was cleared (log-out)', 'AbortError'));
  controller = new AbortController();
}
