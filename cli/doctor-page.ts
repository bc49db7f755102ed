/**
 * What the page says about its worker: the `<script src=".../register.js">`
 * tag and its `data-sw`, `data-manifest`, `data-scope`, resolved exactly as
 * register.js resolves them in the browser (client/register-entry.ts and
 * client/register-outbox.ts):
 * - the worker: `data-sw` against the script's URL, default `sw.js` beside it;
 * - the manifest: `data-manifest` against the page's URL, default
 *   `offline.manifest.json` beside the worker (sw.js resolves its default
 *   against its own URL);
 * - the scope: `data-scope` against the page's URL (as
 *   `navigator.serviceWorker.register` resolves it), default the worker's folder.
 * Without the tag, `sw.js` beside the page.
 */
import { type Finding, finding } from './doctor-finding.js';
import { shownUrl } from './doctor-probe.js';

export interface RegisterTag {
  /** The script's URL, resolved against the page. */
  src: URL;
  /** The attributes as written; absent ones undefined. */
  sw?: string;
  manifest?: string;
  scope?: string;
}

export interface Placement {
  worker: URL;
  manifest: URL;
  scope: URL;
  /** Whether the scope was given (`data-scope`) rather than the worker's folder. */
  scopeGiven: boolean;
  tag?: RegisterTag;
}

const TAG = /<script\b([^>]*)>/gi;
const ATTRIBUTE = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
const ENTITIES: Record<string, string> = { amp: '&', quot: '"', apos: "'", lt: '<', gt: '>' };

const decode = (value: string): string =>
  value.replace(/&(#x[\da-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') return String.fromCodePoint(name[1]?.toLowerCase() === 'x' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1)));
    return ENTITIES[name.toLowerCase()] ?? whole;
  });

function attributes(text: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of text.matchAll(ATTRIBUTE)) {
    const name = m[1]!.toLowerCase();
    // As in a browser, the first of a repeated attribute wins.
    if (!found.has(name)) found.set(name, decode(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return found;
}

/** The first `<script>` whose src names a file `register.js`, outside comments. */
export function findRegisterTag(html: string, page: URL): RegisterTag | undefined {
  const text = html.replace(/<!--[\s\S]*?-->/g, '');
  for (const m of text.matchAll(TAG)) {
    const attrs = attributes(m[1]!);
    const src = attrs.get('src');
    if (!src) continue;
    let url: URL;
    try {
      url = new URL(src, page);
    } catch {
      continue;
    }
    if (!/(?:^|\/)register\.js$/.test(url.pathname)) continue;
    return { src: url, sw: attrs.get('data-sw'), manifest: attrs.get('data-manifest'), scope: attrs.get('data-scope') };
  }
  return undefined;
}

/** Where the worker, its manifest and its scope are; `sw`: the `--sw` option, which overrides the tag. */
export function place(page: URL, tag: RegisterTag | undefined, sw?: string): Placement {
  const worker = sw !== undefined ? new URL(sw, page) : new URL(tag?.sw ?? 'sw.js', tag?.src ?? page);
  const manifest = tag?.manifest !== undefined ? new URL(tag.manifest, page) : new URL('offline.manifest.json', worker);
  const scopeGiven = tag?.scope !== undefined;
  const scope = scopeGiven ? new URL(tag!.scope!, page) : new URL('./', worker);
  return { worker, manifest, scope, scopeGiven, tag };
}

/** The tag's row: where it is and what it says, or a warning with the tag to add. */
export function tagFinding(page: URL, placement: Placement): Finding {
  const { tag } = placement;
  const at = (u: URL) => shownUrl(u, page.origin);
  if (!tag)
    return finding(
      'script-tag',
      at(page),
      'warn',
      `no <script src=…register.js> on the page: nothing registers the worker here (looked for ${at(placement.worker)} beside the page)`,
      `add <script src="/register.js" defer></script> to the page (with data-sw="…" if sw.js is not beside it)`,
    );
  const data = (['sw', 'manifest', 'scope'] as const).filter((k) => tag[k] !== undefined).map((k) => ` data-${k}="${tag[k]}"`);
  return finding('script-tag', at(page), 'ok', `<script src="${at(tag.src)}"${data.join('')}>: worker ${at(placement.worker)}, manifest ${at(placement.manifest)}`);
}
