/**
 * The worker script as a browser judges it before it registers it
 * (https://w3c.github.io/ServiceWorker/#update-algorithm): a secure origin,
 * the page's origin, a 2xx answer that is not a redirect, a JavaScript MIME
 * type, and a scope within the script's folder unless `Service-Worker-Allowed`
 * widens it. Then whether that scope covers the page, which a browser never
 * says: a page outside it is simply never controlled (issue 12: register.js
 * served from a sub-folder).
 */
import { type Finding, finding } from './doctor-finding.js';
import type { Placement } from './doctor-page.js';
import { type Prober, shownUrl } from './doctor-probe.js';

/** The JavaScript MIME type essences (https://mimesniff.spec.whatwg.org/#javascript-mime-type). */
const JAVASCRIPT_TYPES = new Set([
  'application/ecmascript',
  'application/javascript',
  'application/x-ecmascript',
  'application/x-javascript',
  'text/ecmascript',
  'text/javascript',
  'text/javascript1.0',
  'text/javascript1.1',
  'text/javascript1.2',
  'text/javascript1.3',
  'text/javascript1.4',
  'text/javascript1.5',
  'text/jscript',
  'text/livescript',
  'text/x-ecmascript',
  'text/x-javascript',
]);

const ALLOWED = 'Service-Worker-Allowed';

/** Browsers take these as secure without TLS (https://w3c.github.io/webappsec-secure-contexts/#is-origin-trustworthy). */
export function isSecureOrigin(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  const host = url.hostname;
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

export function originFinding(page: URL): Finding {
  if (isSecureOrigin(page)) return finding('origin', page.origin, 'ok', 'a secure origin: service workers are allowed here');
  return finding(
    'origin',
    page.origin,
    'blocker',
    `not a secure origin: browsers offer no service workers to ${page.protocol.slice(0, -1)} pages outside localhost`,
    'serve the app over HTTPS (or from localhost while developing)',
  );
}

export async function checkWorker(prober: Prober, page: URL, placement: Placement): Promise<Finding[]> {
  const { worker } = placement;
  const at = (u: URL | string) => shownUrl(u, page.origin);
  const subject = at(worker);
  const moveOrPoint = 'serve sw.js on the page\'s origin and point at it with data-sw="/sw.js" on the register.js tag';
  if (worker.origin !== page.origin)
    return [finding('worker', subject, 'blocker', `on another origin than the page (${page.origin}): browsers refuse to register it`, moveOrPoint)];

  // Browsers send this header with a worker script's fetch; a server may answer it differently.
  const probed = await prober.request(worker, { headers: { accept: '*/*', 'service-worker': 'script' } });
  if (!probed.ok)
    return [
      finding(
        'worker',
        subject,
        'blocker',
        `${probed.error}: the browser cannot install the worker`,
        `serve the worker at ${subject}, or point at it with data-sw="…" on the register.js tag`,
      ),
    ];
  const { status, headers } = probed.answer;
  if (status >= 300 && status < 400) {
    const location = headers.get('location');
    const to = location ? at(new URL(location, worker)) : 'nowhere (no Location)';
    return [
      finding(
        'worker',
        subject,
        'blocker',
        `answers ${status} → ${to}: browsers refuse a redirected worker script`,
        `serve sw.js itself at ${subject}, or point data-sw="…" at ${to}`,
      ),
    ];
  }
  if (status < 200 || status >= 300)
    return [
      finding(
        'worker',
        subject,
        'blocker',
        `answers ${status}: the browser cannot install the worker`,
        `serve the worker at ${subject} (npx offline-outbox init copies sw.js), or point at it with data-sw="…"`,
      ),
    ];

  const type = headers.get('content-type') ?? '';
  const essence = type.split(';')[0]!.trim().toLowerCase();
  const findings: Finding[] = [];
  if (!JAVASCRIPT_TYPES.has(essence))
    findings.push(
      finding(
        'worker',
        subject,
        'blocker',
        `Content-Type: ${type || '(none)'}: browsers refuse to register a worker script that is not served as JavaScript`,
        `send "Content-Type: text/javascript" with ${subject}`,
      ),
    );
  else findings.push(finding('worker', subject, 'ok', `${status}, Content-Type: ${type}`));
  findings.push(scopeFinding(page, placement, headers.get(ALLOWED)));
  return findings;
}

/** Whether the browser accepts the scope, and whether it covers the page. */
function scopeFinding(page: URL, { worker, scope, scopeGiven }: Placement, allowed: string | null): Finding {
  const at = (u: URL | string) => shownUrl(u, page.origin);
  const folder = new URL('./', worker).pathname;
  const maxScope = allowed !== null ? new URL(allowed, worker) : new URL(folder, worker);
  const subject = at(scope);
  const pageFolder = new URL('./', page).pathname;
  // The worker moved to the folder it must cover (its default scope then covers the page).
  const move = `or move sw.js to ${pageFolder} and point at it with data-sw="${pageFolder}sw.js"`;
  if (scope.origin !== worker.origin || !scope.pathname.startsWith(maxScope.pathname)) {
    const why = allowed === null ? `the folder of ${at(worker)}, which sends no ${ALLOWED}` : `what ${ALLOWED}: ${allowed} allows`;
    return finding(
      'scope',
      subject,
      'blocker',
      `the scope ${subject} is outside ${maxScope.pathname}, ${why}: browsers refuse to register the worker`,
      `send "${ALLOWED}: ${scope.pathname}" with ${at(worker)}, ${move}`,
    );
  }
  const given = scopeGiven ? 'data-scope' : `the folder of ${at(worker)}`;
  if (!page.href.startsWith(scope.href)) {
    // The fix widens the scope to the page's folder, which the worker's folder no longer covers, so the header comes with it.
    const header = pageFolder.startsWith(maxScope.pathname) ? '' : ` and send "${ALLOWED}: ${pageFolder}" with ${at(worker)}`;
    return finding(
      'scope',
      subject,
      'blocker',
      `the page ${at(page)} is outside the worker's scope ${subject} (${given}): the worker will never control it, nothing is cached or queued`,
      `add data-scope="${pageFolder}" to the register.js tag${header}; ${move}`,
    );
  }
  const widened = allowed !== null && !scope.pathname.startsWith(folder) ? ` (allowed by ${ALLOWED}: ${allowed})` : '';
  return finding('scope', subject, 'ok', `the scope ${subject} (${given})${widened} covers the page ${at(page)}`);
}
