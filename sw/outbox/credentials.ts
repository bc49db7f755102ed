/**
 * Credentials are never stored at rest unless a route opts in
 * (`queue.storeCredentials`): a queued write keeps only the names of the
 * credential headers it had, and its replay borrows their values from the
 * app's latest live request to the same origin, held here in memory. A token
 * frozen in IndexedDB would expire while the write waits, and would sit on
 * disk for anyone with access to the profile; the app's next request carries
 * a fresh one. Until there is one (a restarted worker knows none), such
 * writes wait as `auth`, visible. Cookies need nothing: the browser attaches
 * them to the replay itself (its credentials mode is kept).
 */
export const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];

const latest = new Map<string, Map<string, string>>();

/** Notes the credentials a live request carries; true when they are new (writes parked for auth may go now). */
export function noteCredentials(request: Request): boolean {
  let fresh = false;
  for (const name of CREDENTIAL_HEADERS) {
    const value = request.headers.get(name);
    if (value === null) continue;
    const origin = new URL(request.url).origin;
    const known = latest.get(origin) ?? new Map<string, string>();
    latest.set(origin, known);
    if (known.get(name) !== value) fresh = true;
    known.set(name, value);
  }
  return fresh;
}

/** The latest values of `names` for `url`'s origin; undefined while one of them is unknown. */
export function borrowCredentials(url: string, names: readonly string[]): [string, string][] | undefined {
  const known = latest.get(new URL(url).origin);
  const found = names.map((name): [string, string] | undefined => {
    const value = known?.get(name);
    return value === undefined ? undefined : [name, value];
  });
  return found.every((f) => f !== undefined) ? (found as [string, string][]) : undefined;
}

/** Log-out: the credentials held go too. */
export const forgetCredentials = (): void => latest.clear();
