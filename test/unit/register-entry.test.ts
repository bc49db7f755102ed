/**
 * register.js (client/register-entry.ts) run in a fake page: what it sends
 * the worker that first takes control (first-visit caching), and what
 * `data-ui` adds to the page (the `outbox-status.js` script beside
 * register.js, and the element) and does not add without it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

const ORIGIN = 'https://app.example';

interface FakeWorker {
  received: unknown[];
  postMessage(data: unknown): void;
}

function fakeWorker(): FakeWorker {
  const worker: FakeWorker = { received: [], postMessage: (data) => void worker.received.push(structuredClone(data)) };
  return worker;
}

/** Just enough of an element to see what register.js builds. */
class FakeElement {
  readonly attributes: Record<string, string> = {};
  readonly children: FakeElement[] = [];
  src?: string;
  defer?: boolean;
  onerror?: () => void;
  parent?: FakeElement;
  constructor(readonly localName: string) {}
  setAttribute(name: string, value: string): void {
    this.attributes[name] = value;
  }
  append(...nodes: FakeElement[]): void {
    for (const node of nodes) node.parent = this;
    this.children.push(...nodes);
  }
  remove(): void {
    this.parent?.children.splice(this.parent.children.indexOf(this), 1);
    this.parent = undefined;
  }
}

interface PageOptions {
  /** The register.js tag's data attributes. */
  data?: Record<string, string>;
  /** The register.js tag's src. @default ORIGIN/register.js */
  src?: string;
  /** The worker controlling the page at load; null: not controlled (first visit). */
  controller?: FakeWorker | null;
  /** The resource timing entries' names. */
  resources?: string[];
  readyState?: DocumentReadyState;
  /** What `document.querySelector` finds, by selector. */
  elements?: Record<string, FakeElement>;
}

interface Page {
  head: FakeElement;
  body: FakeElement;
  document: EventTarget & { readyState: DocumentReadyState };
  window: EventTarget;
  serviceWorker: EventTarget & { controller: FakeWorker | null };
  warnings: unknown[][];
}

/** Loads register.js into a fresh fake page at ORIGIN/page/index.html#top. */
async function loadPage(options: PageOptions = {}): Promise<Page> {
  const head = new FakeElement('head');
  const body = new FakeElement('body');
  const document = Object.assign(new EventTarget(), {
    currentScript: { src: options.src ?? `${ORIGIN}/register.js`, dataset: options.data ?? {} },
    readyState: options.readyState ?? ('interactive' as DocumentReadyState),
    visibilityState: 'visible',
    head,
    body,
    createElement: (tag: string) => new FakeElement(tag),
    querySelector: (selector: string) => {
      if (selector.startsWith('[')) throw new SyntaxError(`'${selector}' is not a valid selector`);
      return options.elements?.[selector] ?? null;
    },
  });
  const serviceWorker = Object.assign(new EventTarget(), {
    controller: options.controller ?? null,
    ready: new Promise(() => {}),
    register: async () => ({ scope: `${ORIGIN}/` }),
    getRegistration: async () => undefined,
    startMessages() {},
  });
  const window = Object.assign(new EventTarget(), { isSecureContext: true });
  const page: Page = { head, body, document, window, serviceWorker, warnings: [] };
  vi.stubGlobal('document', document);
  vi.stubGlobal('window', window);
  vi.stubGlobal('location', new URL(`${ORIGIN}/page/index.html#top`));
  vi.stubGlobal('navigator', { serviceWorker });
  // register-outbox's install-failure channel would outlive the test.
  vi.stubGlobal('BroadcastChannel', undefined);
  vi.stubGlobal('fetch', async () => new Response('{"version":1}'));
  vi.spyOn(performance, 'getEntriesByType').mockImplementation((type) => (type === 'resource' ? (options.resources ?? []).map((name) => ({ name }) as PerformanceEntry) : []));
  vi.spyOn(console, 'warn').mockImplementation((...args) => void page.warnings.push(args));
  vi.resetModules();
  await import('../../client/register-entry.js');
  await (window as unknown as { offlineOutbox: { registration: Promise<unknown> } }).offlineOutbox.registration;
  return page;
}

/** The browser hands the page to `worker`, as clients.claim() does. */
function takeControl(page: Page, worker: FakeWorker): void {
  page.serviceWorker.controller = worker;
  page.serviceWorker.dispatchEvent(new Event('controllerchange'));
}

const cacheUrls = (urlsToCache: string[]) => ({ type: 'CACHE_URLS', meta: 'workbox-window', payload: { urlsToCache } });

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('register.js on a first visit', () => {
  const resources = [
    `${ORIGIN}/register.js`,
    `${ORIGIN}/style.css?v=2`,
    `${ORIGIN}/app.js`,
    `${ORIGIN}/app.js#again`,
    `${ORIGIN}/offline.manifest.json`,
    `${ORIGIN}/api/todos?page=1`,
    'https://cdn.example/lib.js',
    'http://app.example/insecure.js',
    'https://app.example:8443/other-port.js',
    `blob:${ORIGIN}/6b1f0c1e-5f0e-4c4e-9d36-1d7d4a3f0a55`,
    'data:text/css,body{}',
    `${ORIGIN}/page/index.html`,
  ];

  it('sends the worker that takes control the same-origin URLs the page loaded, once', async () => {
    const page = await loadPage({ controller: null, resources });
    const worker = fakeWorker();
    takeControl(page, worker);
    expect(worker.received).toEqual([
      cacheUrls([
        `${ORIGIN}/page/index.html`,
        `${ORIGIN}/register.js`,
        `${ORIGIN}/style.css?v=2`,
        `${ORIGIN}/app.js`,
        `${ORIGIN}/offline.manifest.json`,
        `${ORIGIN}/api/todos?page=1`,
      ]),
    ]);

    // A later change of worker (an update) is not a first visit.
    const next = fakeWorker();
    takeControl(page, next);
    expect(next.received).toEqual([]);
    expect(worker.received).toHaveLength(1);
  });

  it('sends nothing when the page was already controlled at load', async () => {
    const current = fakeWorker();
    const page = await loadPage({ controller: current, resources });
    const next = fakeWorker();
    takeControl(page, next);
    expect(next.received).toEqual([]);
    expect(current.received).toEqual([]);
  });
});

describe('register.js data-ui', () => {
  const scriptElements = (page: Page) => page.head.children.filter((e) => e.localName === 'script');
  const scripts = (page: Page) => scriptElements(page).map(({ src, defer }) => ({ src, defer }));
  const statuses = (parent: FakeElement) => parent.children.filter((e) => e.localName === 'outbox-status');

  it('without data-ui, loads no outbox-status.js and mounts nothing', async () => {
    const page = await loadPage({ src: `${ORIGIN}/static/register.js` });
    expect(page.head.children).toEqual([]);
    expect(page.body.children).toEqual([]);
  });

  it('with data-ui, loads outbox-status.js from beside register.js and mounts the element in the corner', async () => {
    const page = await loadPage({ src: `${ORIGIN}/static/register.js?v=3`, data: { ui: '' } });
    expect(scripts(page)).toEqual([{ src: `${ORIGIN}/static/outbox-status.js`, defer: true }]);
    expect(statuses(page.body)).toEqual([expect.objectContaining({ attributes: { position: 'corner' }, children: [] })]);
    expect(page.warnings).toEqual([]);
  });

  it('loads outbox-status.js again once online when it failed to load (a page opened offline)', async () => {
    const page = await loadPage({ data: { ui: '' } });
    scriptElements(page)[0]!.onerror!();
    expect(scripts(page)).toEqual([]);
    page.window.dispatchEvent(new Event('online'));
    expect(scripts(page)).toEqual([{ src: `${ORIGIN}/outbox-status.js`, defer: true }]);
    // Loaded this time: a later `online` adds nothing.
    page.window.dispatchEvent(new Event('online'));
    expect(scripts(page)).toHaveLength(1);
    // The element was mounted once, at load, and waits for its definition.
    expect(statuses(page.body)).toHaveLength(1);
  });

  it('with data-ui="<selector>", mounts it inside that element, once the DOM is ready', async () => {
    const box = new FakeElement('aside');
    const page = await loadPage({ data: { ui: '#sync-status' }, elements: { '#sync-status': box }, readyState: 'loading' });
    expect(scripts(page)).toEqual([{ src: `${ORIGIN}/outbox-status.js`, defer: true }]);
    expect(statuses(box)).toEqual([]);
    page.document.dispatchEvent(new Event('DOMContentLoaded'));
    expect(statuses(box)).toEqual([expect.objectContaining({ attributes: {} })]);
    expect(page.body.children).toEqual([]);
  });

  it('falls back to the corner, saying so, when the selector matches nothing or is invalid', async () => {
    for (const ui of ['#missing', '[oops']) {
      const page = await loadPage({ data: { ui } });
      expect(statuses(page.body)).toEqual([expect.objectContaining({ attributes: { position: 'corner' } })]);
      expect(page.warnings).toEqual([[`offline-outbox: no element matches data-ui=${JSON.stringify(ui)}; <outbox-status> is shown in the corner instead.`]]);
    }
  });
});
