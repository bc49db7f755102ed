/** Small helpers shared by the bench modules. */

/** Rejects with a clear error when `promise` has not settled within `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new HarnessError(`timed out after ${(ms / 1000).toFixed(0)} s: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A failure of the harness itself (not a missed target): makes `npm run bench` exit non-zero. */
export class HarnessError extends Error {
  name = 'HarnessError';
}

/** A subject that cannot be measured yet (e.g. its writes are not queued). */
export class NotReadyError extends HarnessError {
  name = 'NotReadyError';
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The median of numbers (the mean of the middle two for an even count). */
export function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
