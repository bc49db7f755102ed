/**
 * The todo example's page is an ordinary REST app: its only offline code is
 * the register.js script tag, and one optional line that reads the list
 * again when the worker says it refreshed cached answers. The first tests
 * read its source as text and fail as soon as someone adds anything more (a
 * worker registration, storage, caches, more of the outbox client, or the
 * headers the worker adds for it). The
 * others run app.js against the elements of index.html (a small DOM below)
 * and a fake REST API, and check what the page shows and sends.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

const read = (file: string) => readFileSync(new URL(`../../examples/todo/public/${file}`, import.meta.url), 'utf8');
const html = read('index.html');
const app = read('app.js');

const REGISTER_TAG = '<script src="/register.js" defer data-ui></script>';
/** The optional line README's "Add it to your app" shows. */
const OPTIONAL_LINE = "document.addEventListener('DOMContentLoaded', () => window.offlineOutbox?.on('cache-updated', () => load()));";
const FORBIDDEN = ['serviceWorker', 'offlineOutbox', 'caches', 'indexedDB', 'localStorage', 'sw.js', 'Idempotency', 'If-Match'];
const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)];
const srcOf = (attributes: string) => /\bsrc\s*=\s*["']?([^"'\s>]+)/i.exec(attributes)?.[1];

describe('the todo example page', () => {
  it('loads register.js through exactly one tag, deferred, with data-ui', () => {
    expect(html.match(/<script\b[^>]*\bsrc\s*=\s*["']?[^"'\s>]*register\.js/gi)).toHaveLength(1);
    expect(html.split(REGISTER_TAG)).toHaveLength(2);
  });

  it('loads no other script than app.js, and has no inline script or handler attribute', () => {
    expect(scripts.map(([, attributes]) => srcOf(attributes!))).toEqual(['/app.js', '/register.js']);
    for (const [, , body] of scripts) expect(body!.trim()).toBe('');
    expect(html).not.toMatch(/<[^>]+\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/<link\b[^>]*\brel\s*=\s*["']?(modulepreload|serviceworker|manifest)/i);
  });

  it('has the optional cache-updated line once in app.js', () => {
    expect(app.split(OPTIONAL_LINE)).toHaveLength(2);
  });

  it.each(FORBIDDEN)('has no "%s" in app.js or index.html (besides the tag and the optional line)', (word) => {
    const needle = word.toLowerCase();
    expect(html.replace(REGISTER_TAG, '').toLowerCase(), 'index.html').not.toContain(needle);
    expect(app.replace(OPTIONAL_LINE, '').toLowerCase(), 'app.js').not.toContain(needle);
  });

  it('has app.js import no other code', () => {
    expect(app).not.toMatch(/^\s*import\b|\bimport\s*\(|\bimportScripts\b|\bnew\s+(Shared)?Worker\b/m);
  });
});

// ---------------------------------------------------------------------------
// A DOM just large enough for app.js, built from index.html's markup

type Listener = (event: PageEvent) => void;

interface PageEvent {
  readonly type: string;
  readonly target: Node;
  readonly key?: string;
  defaultPrevented: boolean;
  preventDefault(): void;
}

const VOID_TAGS = new Set(['meta', 'link', 'input', 'br', 'img']);

class Node {
  id = '';
  className = '';
  name = '';
  type = '';
  value = '';
  checked = false;
  title = '';
  readonly dataset: Record<string, string> = {};
  readonly attributes = new Map<string, string>();
  children: Node[] = [];
  parent: Node | null = null;
  #text = '';
  readonly #listeners = new Map<string, Listener[]>();

  constructor(
    readonly tagName: string,
    readonly document: PageDocument,
  ) {}

  get classList() {
    const classes = () => this.className.split(/\s+/).filter(Boolean);
    return {
      0: classes()[0],
      contains: (name: string) => classes().includes(name),
      add: (name: string) => void (this.className = [...new Set([...classes(), name])].join(' ')),
      remove: (name: string) =>
        void (this.className = classes()
          .filter((c) => c !== name)
          .join(' ')),
    };
  }

  get textContent(): string {
    return this.#text + this.children.map((child) => child.textContent).join('');
  }

  set textContent(text: string) {
    this.replaceChildren();
    this.#text = text;
  }

  /** A form's controls by name, as app.js reads `form.elements.title`. */
  get elements(): Record<string, Node> {
    return Object.fromEntries(
      this.descendants()
        .filter((node) => node.name)
        .map((node) => [node.name, node]),
    );
  }

  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
  }

  getAttribute(name: string): string | null {
    return this.attributes.get(name) ?? null;
  }

  append(...nodes: Node[]): void {
    for (const node of nodes) {
      node.remove();
      node.parent = this;
      this.children.push(node);
    }
  }

  replaceChildren(...nodes: Node[]): void {
    for (const child of [...this.children]) child.remove();
    this.append(...nodes);
  }

  after(node: Node): void {
    node.remove();
    node.parent = this.parent;
    this.parent!.children.splice(this.parent!.children.indexOf(this) + 1, 0, node);
  }

  remove(): void {
    if (!this.parent) return;
    this.parent.children.splice(this.parent.children.indexOf(this), 1);
    this.parent = null;
  }

  contains(node: Node | null): boolean {
    for (let at = node; at; at = at.parent) if (at === this) return true;
    return false;
  }

  /** Selectors app.js uses: `tag`, `.class`, `tag.class`, `tag[name="x"]`, and lists of them. */
  matches(selectors: string): boolean {
    return selectors.split(',').some((selector) => {
      const [, tag, cls, attr, value] = /^\s*([a-z]*)(?:\.([\w-]+))?(?:\[(\w+)="([^"]*)"\])?\s*$/.exec(selector) ?? [];
      if (tag && tag !== this.tagName) return false;
      if (cls && !this.classList.contains(cls)) return false;
      if (attr && this.getAttribute(attr) !== value) return false;
      return true;
    });
  }

  closest(selectors: string): Node | null {
    for (let at: Node | null = this; at; at = at.parent) if (at.matches(selectors)) return at;
    return null;
  }

  descendants(): Node[] {
    return this.children.flatMap((child) => [child, ...child.descendants()]);
  }

  querySelector(selectors: string): Node | null {
    return this.descendants().find((node) => node.matches(selectors)) ?? null;
  }

  querySelectorAll(selectors: string): Node[] {
    return this.descendants().filter((node) => node.matches(selectors));
  }

  focus(): void {
    this.document.activeElement = this;
  }

  select(): void {}

  reset(): void {
    for (const node of this.descendants()) if (node.tagName === 'input') node.value = '';
  }

  addEventListener(type: string, listener: Listener): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  /** Dispatches an event that bubbles to the document; returns it. */
  dispatch(type: string, init: { key?: string } = {}): PageEvent {
    const event: PageEvent = { type, target: this, ...init, defaultPrevented: false, preventDefault: () => void (event.defaultPrevented = true) };
    for (let at: Node | null = this; at; at = at.parent) for (const listener of at.#listeners.get(type) ?? []) listener(event);
    return event;
  }
}

class PageDocument {
  activeElement: Node | null = null;
  visibilityState = 'visible';
  readonly root: Node;

  constructor(html: string) {
    this.root = new Node('#document', this);
    let current = this.root;
    for (const [, closing, tag, attributes] of html.matchAll(/<(\/?)([a-zA-Z][\w-]*)([^>]*)>/g)) {
      if (closing) {
        current = current.parent ?? this.root;
        continue;
      }
      const node = new Node(tag!.toLowerCase(), this);
      for (const [, name, value = ''] of attributes!.matchAll(/([\w:-]+)(?:\s*=\s*"([^"]*)")?/g)) {
        node.setAttribute(name!, value);
        if (name === 'class') node.className = value;
        else if (name === 'checked') node.checked = true;
        else if (['id', 'name', 'type', 'value'].includes(name!)) Object.assign(node, { [name!]: value });
      }
      current.append(node);
      if (!VOID_TAGS.has(node.tagName) && !attributes!.trim().endsWith('/')) current = node;
    }
  }

  getElementById(id: string): Node | null {
    return this.root.descendants().find((node) => node.id === id) ?? null;
  }

  createElement(tag: string): Node {
    return new Node(tag, this);
  }

  querySelectorAll(selectors: string): Node[] {
    return this.root.querySelectorAll(selectors);
  }

  addEventListener(type: string, listener: Listener): void {
    this.root.addEventListener(type, listener);
  }
}

interface Todo {
  id: string;
  title: string;
  done: boolean;
  _pending?: boolean;
}

interface SentRequest {
  method: string;
  url: string;
  contentType: string | null;
  body: unknown;
}

/**
 * index.html's elements with app.js running on them, against a REST API
 * that keeps `todos` and records every request; `failNext` makes the next
 * write fail with that status and error.
 */
function openPage(todos: Todo[]) {
  const document = new PageDocument(html);
  const sent: SentRequest[] = [];
  let failure: { status: number; error: string } | undefined;
  const fetch = async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET';
    const headers = new Headers(init.headers);
    const body: unknown = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    sent.push({ method, url, contentType: headers.get('content-type'), body });
    if (method !== 'GET' && failure) {
      const { status, error } = failure;
      failure = undefined;
      return Response.json({ error }, { status });
    }
    const id = decodeURIComponent(url.split('/')[3] ?? '');
    const index = todos.findIndex((todo) => todo.id === id);
    if (method === 'GET') return Response.json(id ? todos[index] : todos);
    if (method === 'POST') return Response.json(todos[todos.push(body as Todo) - 1], { status: 201 });
    if (method === 'PATCH') return Response.json(Object.assign(todos[index]!, body));
    todos.splice(index, 1);
    return new Response(null, { status: 204 });
  };
  // register.js's client, as far as app.js uses it.
  const heard = new Map<string, () => void>();
  const window = { offlineOutbox: { on: (type: string, listener: () => void) => heard.set(type, listener) } };
  new Function('document', 'fetch', 'window', app)(document, fetch, window);
  const byId = (id: string) => document.getElementById(id)!;
  const list = byId('todos');
  return {
    document,
    sent,
    byId,
    failNext: (status: number, error: string) => void (failure = { status, error }),
    /** The worker's `cache-updated`, as register.js's client delivers it (after DOMContentLoaded). */
    cacheUpdated: () => heard.get('cache-updated')?.(),
    /** What each row shows: its id, classes, the classes of its parts in order, title and checkbox. */
    rows: () =>
      list.children.map((li) => ({
        id: li.dataset.id,
        className: li.className,
        parts: li.children.map((part) => part.className),
        title: li.querySelector('.title')?.textContent,
        checked: li.querySelector('.toggle')?.checked,
      })),
    rowOf: (id: string) => list.children.find((li) => li.dataset.id === id)!,
    /** Resolves once the list is drawn and no request is awaited (polled: app.js awaits fetch and body reads). */
    settled: (requests: number) =>
      vi.waitFor(() => {
        expect(sent).toHaveLength(requests);
        expect(list.getAttribute('aria-busy')).toBe('false');
      }),
  };
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('the todo example page, running', () => {
  it('draws one row per todo with its controls, marks the done and the not-yet-saved ones, and sums them up', async () => {
    const page = openPage([
      { id: 'a', title: 'milk', done: false },
      { id: 'b', title: 'eggs', done: true, _pending: true },
    ]);
    await page.settled(1);
    expect(page.sent).toEqual([{ method: 'GET', url: '/api/todos', contentType: null, body: undefined }]);
    expect(page.rows()).toEqual([
      { id: 'a', className: 'todo', parts: ['toggle', 'title', 'rename', 'delete'], title: 'milk', checked: false },
      { id: 'b', className: 'todo done pending', parts: ['toggle', 'title', 'note', 'rename', 'delete'], title: 'eggs', checked: true },
    ]);
    expect(page.rowOf('b').querySelector('.note')?.textContent).toBe('not saved yet');
    expect(page.byId('summary').textContent).toBe('1 to do, 1 done');
    expect(page.byId('error').getAttribute('role')).toBe('alert');
    expect(page.byId('error').textContent).toBe('');
  });

  it('reads the list again when the worker refreshed cached answers, so delivered rows lose "not saved yet"', async () => {
    const todos: Todo[] = [{ id: 'a', title: 'milk', done: false, _pending: true }];
    const page = openPage(todos);
    await page.settled(1);
    expect(page.rowOf('a').querySelector('.note')?.textContent).toBe('not saved yet');

    // The deferred scripts have run (register.js too): the line subscribes.
    page.document.root.dispatch('DOMContentLoaded');
    // The write was delivered in the background; the worker's cache now holds the server's row.
    delete todos[0]!._pending;
    page.cacheUpdated();
    await page.settled(2);
    expect(page.sent[1]).toMatchObject({ method: 'GET', url: '/api/todos' });
    expect(page.rows()).toEqual([{ id: 'a', className: 'todo', parts: ['toggle', 'title', 'rename', 'delete'], title: 'milk', checked: false }]);
  });

  it('adds a todo under an id it makes itself (a UUID), empties the form and reads the list again', async () => {
    const page = openPage([]);
    await page.settled(1);
    const form = page.byId('new-todo');
    form.elements.title!.value = 'bread';
    expect(form.dispatch('submit').defaultPrevented).toBe(true);
    await page.settled(3);

    const [, post, reload] = page.sent;
    expect(post).toMatchObject({ method: 'POST', url: '/api/todos', contentType: 'application/json', body: { title: 'bread', done: false } });
    expect((post!.body as Todo).id).toMatch(UUID_V4);
    expect(reload).toMatchObject({ method: 'GET', url: '/api/todos' });
    expect(page.rows()).toEqual([{ id: (post!.body as Todo).id, className: 'todo', parts: ['toggle', 'title', 'rename', 'delete'], title: 'bread', checked: false }]);
    expect(form.elements.title!.value).toBe('');
  });

  it('ticks with a JSON merge patch and deletes by the row id, reading the list after each', async () => {
    const page = openPage([
      { id: 'a/1', title: 'milk', done: false },
      { id: 'b', title: 'eggs', done: false },
    ]);
    await page.settled(1);
    const toggle = page.rowOf('a/1').querySelector('.toggle')!;
    toggle.checked = true;
    toggle.dispatch('change');
    await page.settled(3);
    page.rowOf('b').querySelector('.delete')!.dispatch('click');
    await page.settled(5);

    expect(page.sent.map(({ method, url, contentType, body }) => ({ method, url, contentType, body }))).toEqual([
      { method: 'GET', url: '/api/todos', contentType: null, body: undefined },
      { method: 'PATCH', url: '/api/todos/a%2F1', contentType: 'application/merge-patch+json', body: { done: true } },
      { method: 'GET', url: '/api/todos', contentType: null, body: undefined },
      { method: 'DELETE', url: '/api/todos/b', contentType: null, body: undefined },
      { method: 'GET', url: '/api/todos', contentType: null, body: undefined },
    ]);
    expect(page.rows()).toEqual([{ id: 'a/1', className: 'todo done', parts: ['toggle', 'title', 'rename', 'delete'], title: 'milk', checked: true }]);
    expect(page.byId('summary').textContent).toBe('0 to do, 1 done');
  });

  it('says in the alert why a change failed, keeps the typed title, and still reads the list', async () => {
    const page = openPage([]);
    await page.settled(1);
    const form = page.byId('new-todo');
    form.elements.title!.value = 'bread';
    page.failNext(507, 'the disk is full');
    form.dispatch('submit');
    await page.settled(3);

    expect(page.byId('error').textContent).toBe('POST /api/todos failed: the disk is full (HTTP 507).');
    expect(form.elements.title!.value).toBe('bread');
    expect(page.rows()).toEqual([]);
    expect(page.byId('summary').textContent).toBe('Nothing here.');
  });
});
