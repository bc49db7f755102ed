/**
 * What `offline-outbox doctor` reports: findings, one row of its table (one
 * object of its JSON) each. The check names and verdicts are stable: scripts
 * and tests read them.
 */

export const VERDICTS = ['ok', 'warn', 'blocker', 'unknown'] as const;
/**
 * `blocker`: offline will not work as the manifest says (exit 1); `warn`: it
 * works, with a loss; `unknown`: doctor cannot tell from outside.
 */
export type Verdict = (typeof VERDICTS)[number];

export const CHECKS = ['page', 'script-tag', 'origin', 'worker', 'scope', 'manifest', 'route', 'resource', 'etag', 'feed', 'feed-stream', 'feed-since', 'idempotency'] as const;
export type Check = (typeof CHECKS)[number];

export interface Finding {
  check: Check;
  /** What was looked at: a URL path, an origin, a resource's name. */
  subject: string;
  verdict: Verdict;
  /** What doctor saw, and what follows from it. */
  seen: string;
  /** What to change (the header, file or attribute); empty when nothing is to be done. */
  fix: string;
}

export const finding = (check: Check, subject: string, verdict: Verdict, seen: string, fix = ''): Finding => ({ check, subject, verdict, seen, fix });

/** The README section that says what a server should do for the worker. */
export const YOUR_SERVER = 'see "What your server should support" in the README';
