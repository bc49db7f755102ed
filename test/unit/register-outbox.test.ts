import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerOutbox } from '../../client/register-outbox.js';

const ORIGIN = 'https://app.example';

interface FakePage {
  registered: { url: string; options: unknown }[];
  fetched: string[];
  warnings: unknown[][];
  errors: unknown[][];
}

/** A page's globals as a browser would give them; `serviceWorker` absent models an insecure origin. */
function fakePage(options: { secure?: boolean; serviceWorker?: boolean; manifest?: string | Error; register?: () => Promise<unknown>; existing?: unknown } = {}): FakePage {
  const page: FakePage = { registered: [], fetched: [], warnings: [], errors: [] };
  const navigator: Record<string, unknown> = {};
  if (options.serviceWorker !== false)
    navigator.serviceWorker = {
      register: async (url: string, opts: unknown) => {
        page.registered.push({ url, options: opts });
        return options.register ? options.register() : { scope: `${ORIGIN}/` };
      },
      getRegistration: async () => options.existing,
    };
  vi.stubGlobal('navigator', navigator);
  vi.stubGlobal('location', new URL(`${ORIGIN}/page/index.html`));
  vi.stubGlobal('window', { isSecureContext: options.secure !== false });
  vi.stubGlobal('fetch', async (url: URL) => {
    page.fetched.push(String(url));
    if (options.manifest instanceof Error) throw options.manifest;
    return new Response(options.manifest ?? '{"version":1}', { status: 200 });
  });
  vi.spyOn(console, 'warn').mockImplementation((...args) => void page.warnings.push(args));
  vi.spyOn(console, 'error').mockImplementation((...args) => void page.errors.push(args));
  return page;
}

async function sha(text: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('registerOutbox', () => {
  it('says why offline support is off on an insecure origin, and resolves undefined', async () => {
    const page = fakePage({ secure: false, serviceWorker: false });
    await expect(registerOutbox()).resolves.toBeUndefined();
    expect(page.warnings).toEqual([
      [`offline-outbox: offline support is off: ${ORIGIN} is not a secure origin; serve the app over HTTPS (or from localhost). The app works online as usual.`],
    ]);
  });

  it('says so where the browser has no service workers on a secure origin', async () => {
    const page = fakePage({ serviceWorker: false });
    await registerOutbox();
    expect(String(page.warnings[0]?.[0])).toContain('this browser has no service workers, or they are disabled');
  });

  it('registers sw.js beside the base with the manifest hash in the URL', async () => {
    const page = fakePage({ manifest: '{"version":1,"routes":[]}' });
    await registerOutbox({ base: `${ORIGIN}/static/register.js` });
    expect(page.fetched).toEqual([`${ORIGIN}/static/offline.manifest.json`]);
    expect(page.registered).toEqual([{ url: `${ORIGIN}/static/sw.js?v=${await sha('200\n{"version":1,"routes":[]}')}`, options: undefined }]);
  });

  it('passes data-manifest and data-scope through', async () => {
    const page = fakePage();
    await registerOutbox({ sw: '/sw.js', manifest: 'config/m.json', scope: '/page/' });
    expect(page.fetched).toEqual([`${ORIGIN}/page/config/m.json`]);
    expect(page.registered[0]!.url).toMatch(new RegExp(`^${ORIGIN}/sw\\.js\\?manifest=%2Fpage%2Fconfig%2Fm\\.json&v=[0-9a-f]{16}$`));
    expect(page.registered[0]!.options).toEqual({ scope: '/page/' });
  });

  it('keeps the installed worker when the manifest cannot be fetched (offline)', async () => {
    const existing = { scope: `${ORIGIN}/` };
    const page = fakePage({ manifest: new TypeError('Failed to fetch'), existing });
    await expect(registerOutbox({ sw: '/sw.js' })).resolves.toBe(existing);
    expect(page.registered).toEqual([]);
  });

  it('never rejects: a failed registration goes to the console', async () => {
    const page = fakePage({ register: () => Promise.reject(new TypeError('script evaluation failed')) });
    await expect(registerOutbox()).resolves.toBeUndefined();
    expect(page.errors[0]?.[0]).toBe('offline-outbox: could not register the service worker; the app works online as usual.');
  });
});
