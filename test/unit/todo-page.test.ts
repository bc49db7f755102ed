/**
 * The todo example's page is an ordinary REST app: its only offline code is
 * the register.js script tag. These read its source as text and fail as soon
 * as someone adds anything more (a worker registration, storage, caches, the
 * outbox client, or the headers the worker adds for it).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (file: string) => readFileSync(new URL(`../../examples/todo/public/${file}`, import.meta.url), 'utf8');
const html = read('index.html');
const app = read('app.js');

const REGISTER_TAG = '<script src="/register.js" defer data-ui></script>';
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

  it.each(FORBIDDEN)('has no "%s" in app.js or index.html (besides the tag)', (word) => {
    const needle = word.toLowerCase();
    expect(html.replace(REGISTER_TAG, '').toLowerCase(), 'index.html').not.toContain(needle);
    expect(app.toLowerCase(), 'app.js').not.toContain(needle);
  });

  it('has app.js import no other code', () => {
    expect(app).not.toMatch(/^\s*import\b|\bimport\s*\(|\bimportScripts\b|\bnew\s+(Shared)?Worker\b/m);
  });

  it('has the markup the example promises: the form, the error alert, the list and its row classes', () => {
    expect(html).toMatch(/<form id="new-todo"[^>]*>[\s\S]*<input [^>]*name="title"[\s\S]*<\/form>/);
    expect(html).toMatch(/<label for="new-title">/);
    expect(html).toMatch(/<p id="error" role="alert">/);
    expect(html).toMatch(/<ul id="todos"/);
    for (const name of ['toggle', 'title', 'rename', 'delete']) expect(app).toContain(`className: '${name}'`);
    expect(app).toContain('li.dataset.id = todo.id');
    expect(app).toContain('crypto.randomUUID()');
    expect(app).toContain('_pending');
  });
});
