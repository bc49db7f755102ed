/**
 * `<outbox-status>`: what the outbox holds, for the person using the app.
 * The pending count and whether the worker is online, a progress bar while
 * a replay runs, the last sync time, each conflicted write with both
 * versions side by side and buttons to settle it, and the writes that were
 * refused or wait for a sign-in.
 *
 * Idle (nothing waiting, nothing to fix) it collapses to a small pill, the
 * last sync time in its tooltip. Routes whose answers the worker will not
 * store (`status().notCached`) get a details line: they will not open
 * offline, and the person should know before the train leaves.
 *
 * Styling: CSS parts (`summary`, `progress`, `last-sync`, `not-cached`,
 * `conflicts`, `conflict`, `versions`, `local`, `server`, `failures`,
 * `dead`, `auth`, `button` plus one of `keep-mine`, `keep-theirs`, `retry`,
 * `discard`), and on the host `state` (`idle` | `pending` | `syncing` |
 * `conflict`), `compact` (the idle pill), `data-pending`, `data-conflicts`,
 * `data-dead`, `data-auth`, `data-online`, `data-not-cached`.
 *
 * Placement: `position="inline"` (the default) leaves it where the page put
 * it; `position="corner"` (register.js's `data-ui` without a container; the
 * older `corner` attribute means the same) floats it in the bottom-right
 * corner and puts a spacer as tall as the box at the end of the page, so
 * the page's last content can always be scrolled clear of it.
 *
 * What the worker sends (the server's JSON included) is untrusted: it only
 * ever reaches the page as text nodes.
 */
import { isObject } from '../common/json.js';
import type { EntrySummary, OutboxEvent, OutboxStatus } from '../common/messages.js';
import { connectOutbox, type OutboxClient } from './connect-outbox.js';

export const OUTBOX_STATUS_TAG = 'outbox-status';

declare global {
  interface HTMLElementTagNameMap {
    [OUTBOX_STATUS_TAG]: OutboxStatusElement;
  }
}

/** Events come in bursts during a replay: at most one refresh per this many ms. */
const REFRESH_MS = 100;

const STYLE = `
:host{display:block;box-sizing:border-box;padding:.5rem .75rem;font:13px/1.4 system-ui,sans-serif;color:CanvasText;background:Canvas;border:1px solid #8888;border-radius:.5rem}
:host([position=corner]),:host([corner]){position:fixed;right:1rem;bottom:1rem;z-index:2147483647;max-width:min(34rem,calc(100vw - 2rem));max-height:calc(100vh - 2rem);overflow:auto;box-shadow:0 2px 10px #0003}
:host([compact]){display:inline-block;padding:.125rem .625rem;border-radius:999px;font-size:12px}
:host([compact]) [part~=summary]{font-weight:500}
:host([compact]) [part~=last-sync]{display:none}
[part~=not-cached]{font-size:.9em;margin-top:.25rem;color:#b35900}
:host([state=conflict]){border-color:#b35900}
:host([hidden]),[hidden]{display:none!important}
[part~=summary]{font-weight:600;outline:none}
progress{display:block;width:100%;min-width:12rem;margin:.25rem 0}
[part~=last-sync]{font-size:.9em;opacity:.8}
ul{list-style:none;margin:0;padding:0}
li{margin-top:.5rem;padding-top:.5rem;border-top:1px solid #8886}
[part~=versions]{display:grid;grid-template-columns:1fr 1fr;gap:.5rem}
figure{margin:0;min-width:10rem}
@media (max-width:30rem){[part~=versions]{grid-template-columns:1fr}}
figcaption{font-weight:600;font-size:.9em}
pre{margin:.25rem 0 0;padding:.375rem;max-height:10rem;overflow:auto;font:12px/1.35 ui-monospace,monospace;white-space:pre-wrap;overflow-wrap:anywhere;background:#8881;border-radius:.25rem}
button{font:inherit;margin:.375rem .375rem 0 0;padding:.125rem .5rem}
`;

type Child = Node | string;

/** An element with attributes and children; strings become text nodes, never markup. */
function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
const pretty = (value: unknown) => (value === null || value === undefined ? '(none)' : JSON.stringify(value, null, 2));

/** The path alone for the page's own origin. */
function path(href: string): string {
  const url = new URL(href, location.href);
  return url.origin === location.origin ? url.pathname + url.search : url.href;
}

/** "PATCH /api/todos/3". */
const target = (entry: EntrySummary): string => `${entry.method} ${path(entry.url)}`;

/** The time alone for today, the date too before that. */
function when(ms: number): string {
  const date = new Date(ms);
  return date.toDateString() === new Date().toDateString()
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

/**
 * "Keep mine": the local change over the server's version, sent against that
 * version. A JSON string is passed encoded, since `resolve` sends a string
 * body as it is.
 */
function keepMine(entry: EntrySummary): unknown {
  const body = isObject(entry.local) && isObject(entry.server) ? { ...entry.server, ...entry.local } : entry.local;
  return typeof body === 'string' ? JSON.stringify(body) : (body ?? undefined);
}

// Importing this module where there is no DOM (server rendering, register.js
// under Node) must not throw; the element is only defined in a page.
const Base = (typeof HTMLElement === 'undefined' ? class {} : HTMLElement) as typeof HTMLElement;

export class OutboxStatusElement extends Base {
  #client?: OutboxClient;
  /** Whether this element made its client (then it closes it). */
  #owned = false;
  #stop?: () => void;
  #timer?: ReturnType<typeof setTimeout>;
  #running?: Promise<void>;
  #again = false;
  #sync?: { done: number; total: number };
  /** Rows by entry id, rebuilt only when what they show changes, so a focused button keeps its focus. */
  #rows = new Map<string, { shows: string; row: HTMLLIElement }>();
  readonly #summary = h('div', { part: 'summary', role: 'status', 'aria-live': 'polite', tabindex: '-1' }, 'Checking sync status…');
  readonly #progress = h('progress', { part: 'progress', 'aria-label': 'Sync progress', hidden: '' });
  readonly #lastSync = h('div', { part: 'last-sync' });
  readonly #notCached = h('div', { part: 'not-cached', hidden: '' });
  #spacer?: HTMLDivElement;
  #resize?: ResizeObserver;
  readonly #conflicts = h('ul', { part: 'conflicts', 'aria-label': 'Conflicts', hidden: '' });
  readonly #failures = h('ul', { part: 'failures', 'aria-label': 'Changes not sent', hidden: '' });

  constructor() {
    super();
    this.attachShadow({ mode: 'open' }).append(h('style', {}, STYLE), this.#summary, this.#progress, this.#lastSync, this.#notCached, this.#conflicts, this.#failures);
  }

  /** The outbox it shows. @default window.offlineOutbox (register.js), else a new connectOutbox() */
  get client(): OutboxClient {
    if (!this.#client) {
      const shared = (window as { offlineOutbox?: OutboxClient }).offlineOutbox;
      this.#owned = !shared;
      this.#client = shared ?? connectOutbox();
    }
    return this.#client;
  }

  set client(client: OutboxClient) {
    const live = !!this.#stop;
    this.disconnectedCallback();
    this.#client = client;
    this.#owned = false;
    // Rows hold the old client in their buttons.
    this.#rows = new Map();
    if (live) this.connectedCallback();
  }

  static get observedAttributes(): string[] {
    return ['position', 'corner'];
  }

  attributeChangedCallback(): void {
    this.#place();
  }

  /** In the corner, a spacer at the end of the page as tall as the box: the page's last row can scroll clear of it. */
  #place(): void {
    const corner = this.isConnected && (this.getAttribute('position') === 'corner' || this.hasAttribute('corner'));
    if (!corner) {
      this.#resize?.disconnect();
      this.#resize = undefined;
      this.#spacer?.remove();
      this.#spacer = undefined;
      return;
    }
    if (!this.#spacer) {
      this.#spacer = h('div', { 'aria-hidden': 'true', 'data-outbox-status-spacer': '' });
      this.#resize = typeof ResizeObserver === 'undefined' ? undefined : new ResizeObserver(() => this.#fit());
      this.#resize?.observe(this);
    }
    if (!this.#spacer.isConnected) document.body.append(this.#spacer);
    this.#fit();
  }

  #fit(): void {
    // The box's height plus its 1rem offset from the bottom, and as much again as a margin.
    if (this.#spacer) this.#spacer.style.height = `calc(${this.offsetHeight}px + 2rem)`;
  }

  connectedCallback(): void {
    this.#place();
    // A `client` set before the element was defined is an own property that hides the setter.
    if (Object.hasOwn(this, 'client')) {
      const client = this.client;
      delete (this as { client?: OutboxClient }).client;
      this.client = client;
    }
    this.#stop?.();
    const schedule = () => (this.#timer ??= setTimeout(() => void this.refresh(), REFRESH_MS));
    const stopEvents = this.client.on('*', (event: OutboxEvent) => {
      if (event.type === 'sync-start') this.#sync = { done: 0, total: event.total };
      else if (event.type === 'sync-progress') this.#sync = { done: event.done, total: event.total };
      else if (event.type === 'sync-end') this.#sync = undefined;
      else if (event.type === 'cache-updated' || event.type === 'install-failed') return;
      schedule();
    });
    addEventListener('online', schedule);
    addEventListener('offline', schedule);
    this.#stop = () => {
      stopEvents();
      removeEventListener('online', schedule);
      removeEventListener('offline', schedule);
    };
    void this.refresh();
  }

  disconnectedCallback(): void {
    this.#place();
    this.#stop?.();
    this.#stop = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#owned) this.#client?.close();
  }

  /** Asks the worker for the status (and the entries, when some need a decision) and shows them. */
  refresh(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // One request at a time; whatever was asked meanwhile, one more after it.
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    return (this.#running = (async () => {
      do {
        this.#again = false;
        try {
          const status = await this.client.status();
          this.#render(status, status.conflicts + status.dead + status.auth ? await this.client.entries() : []);
        } catch {
          // No worker (an insecure origin, a browser without them) or no answer: say so, keep the rest.
          this.#say('Sync status unavailable');
        }
      } while (this.#again);
    })().finally(() => (this.#running = undefined)));
  }

  #say(text: string): void {
    // Rewriting the same text would make a screen reader announce it again.
    if (this.#summary.textContent !== text) this.#summary.textContent = text;
  }

  #render(status: OutboxStatus, entries: EntrySummary[]): void {
    const waiting = status.pending + status.inFlight;
    // A worker stopped mid-pass never says sync-end: an empty queue ends the bar too.
    if (!waiting) this.#sync = undefined;
    const sync = this.#sync;
    const counts = { pending: waiting, conflicts: status.conflicts, dead: status.dead, auth: status.auth, online: status.online };
    for (const [name, value] of Object.entries(counts)) this.setAttribute(`data-${name}`, String(value));
    const state = status.conflicts ? 'conflict' : sync ? 'syncing' : waiting ? 'pending' : 'idle';
    this.setAttribute('state', state);
    // An older worker's status has no notCached.
    const notCached = status.notCached ?? [];
    this.setAttribute('data-not-cached', String(notCached.length));
    this.toggleAttribute('compact', state === 'idle' && !status.dead && !status.auth && !notCached.length);

    const said = [
      sync ? `Syncing ${sync.done} of ${sync.total}` : waiting ? `${plural(waiting, 'change', 'changes')} waiting to sync` : '',
      status.conflicts ? `${plural(status.conflicts, 'conflict', 'conflicts')} to resolve` : '',
      status.dead ? `${plural(status.dead, 'change', 'changes')} refused` : '',
      status.auth ? `${plural(status.auth, 'change needs', 'changes need')} you to sign in` : '',
    ].filter(Boolean);
    // Offline with nothing waiting, "synced" would claim more than is known.
    this.#say(`${status.online ? '' : 'Offline · '}${said.join(' · ') || (status.online ? 'All changes synced' : 'nothing waiting')}`);

    this.#notCached.hidden = !notCached.length;
    const headers = [...new Set(notCached.map((n) => n.header))].join(', ');
    const detail = notCached.length ? `Will not open offline: ${notCached.map((n) => path(n.url)).join(', ')} (the server sends ${headers}; see the console)` : '';
    if (this.#notCached.textContent !== detail) this.#notCached.textContent = detail;

    this.#progress.hidden = !sync?.total;
    if (sync?.total) {
      this.#progress.max = sync.total;
      this.#progress.value = sync.done;
    }

    const last = status.lastSyncAt;
    this.#lastSync.replaceChildren('Last synced ', last === null ? 'never' : h('time', { datetime: new Date(last).toISOString() }, when(last)));
    // The pill hides the line: its tooltip keeps it.
    this.title = this.#lastSync.textContent ?? '';

    const rows = new Map<string, { shows: string; row: HTMLLIElement }>();
    for (const entry of entries) {
      if (entry.state !== 'conflict' && entry.state !== 'dead' && entry.state !== 'auth') continue;
      const shows = JSON.stringify([entry.state, entry.method, entry.url, entry.lastError, entry.local, entry.server]);
      const kept = this.#rows.get(entry.id);
      rows.set(entry.id, kept?.shows === shows ? kept : { shows, row: this.#row(entry) });
    }
    this.#rows = rows;
    const all = [...rows.values()].map((r) => r.row);
    this.#fill(
      this.#conflicts,
      all.filter((row) => row.part.contains('conflict')),
    );
    this.#fill(
      this.#failures,
      all.filter((row) => !row.part.contains('conflict')),
    );
  }

  /** Puts `rows` in `list`, touching it only if they differ: moving a node takes its focus away. */
  #fill(list: HTMLUListElement, rows: HTMLLIElement[]): void {
    if (rows.length !== list.children.length || rows.some((row, i) => list.children[i] !== row)) list.replaceChildren(...rows);
    list.hidden = !rows.length;
  }

  #row(entry: EntrySummary): HTMLLIElement {
    const what = target(entry);
    const client = this.client;
    const button = (label: string, kind: string, act: () => Promise<unknown>) => {
      const b = h('button', { type: 'button', part: `button ${kind}`, 'aria-label': `${label}: ${what}` }, label);
      b.onclick = () => void this.#act(row, act);
      return b;
    };
    const retry = button('Retry', 'retry', () => (entry.state === 'conflict' ? client.resolve(entry.id, { action: 'retry' }) : client.retry(entry.id)));
    let row: HTMLLIElement;
    if (entry.state === 'conflict') {
      const version = (part: string, label: string, shown: string) => h('figure', { part }, h('figcaption', {}, label), h('pre', {}, shown));
      const remove = entry.method === 'DELETE';
      // Without a JSON body there is nothing to merge; a DELETE resent against the server's version needs none.
      const mine = entry.local != null || remove;
      row = h(
        'li',
        { part: 'conflict' },
        h('div', {}, `Conflict: ${what}`),
        h('div', { part: 'versions' }, version('local', 'Your change', remove ? '(delete)' : pretty(entry.local)), version('server', 'On the server', pretty(entry.server))),
        ...(mine ? [button('Keep mine', 'keep-mine', () => client.resolve(entry.id, { action: 'replace', body: keepMine(entry) }))] : []),
        button('Keep theirs', 'keep-theirs', () => client.resolve(entry.id, { action: 'discard' })),
        retry,
      );
    } else if (entry.state === 'dead') {
      row = h(
        'li',
        { part: 'dead' },
        h('div', {}, `Refused: ${what}`),
        h('div', {}, entry.lastError ?? ''),
        retry,
        button('Discard', 'discard', () => client.discard(entry.id)),
      );
    } else {
      row = h('li', { part: 'auth' }, h('div', {}, `Needs you to sign in: ${what}`), retry);
    }
    return row;
  }

  /** Runs a button's action with the row's buttons disabled, then shows the outcome. */
  async #act(row: HTMLLIElement, act: () => Promise<unknown>): Promise<void> {
    const focused = row.contains(this.shadowRoot!.activeElement);
    const buttons = row.querySelectorAll('button');
    for (const b of buttons) b.disabled = true;
    try {
      await act();
    } catch (error) {
      console.warn('offline-outbox: <outbox-status> could not settle the write; it stays queued.', error);
    }
    await this.refresh();
    // Still shown: the action did not take (the write was being sent, say); it can be tried again.
    for (const b of buttons) b.disabled = false;
    // Gone with the button that had the focus: keep the keyboard user here, on the outcome.
    if (focused && !row.isConnected) this.#summary.focus();
  }
}

/** Defines `<outbox-status>`, once; a name already taken is left as it is. */
export function defineOutboxStatus(): void {
  if (!customElements.get(OUTBOX_STATUS_TAG)) customElements.define(OUTBOX_STATUS_TAG, OutboxStatusElement);
}
