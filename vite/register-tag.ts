/**
 * The `<script src="register.js" defer>` tag the plugin puts in each HTML
 * page, unless the page already loads register.js itself (then its own tag,
 * with whatever data attributes it has, is the one that counts).
 */
import { posix } from 'node:path';
import type { HtmlTagDescriptor } from 'vite';

const COMMENT = /<!--[\s\S]*?-->/g;
const SCRIPT_SRC = /<script\b[^>]*?\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/gi;
const REGISTER_JS = /(?:^|\/)register\.js(?:[?#]|$)/;

/** Whether a script in the page (outside comments) loads a file named register.js, from wherever. */
export function hasRegisterTag(html: string): boolean {
  for (const [, double, single, bare] of html.replace(COMMENT, '').matchAll(SCRIPT_SRC)) {
    if (REGISTER_JS.test(double ?? single ?? bare ?? '')) return true;
  }
  return false;
}

/**
 * `base` is Vite's resolved one: a path or URL ending in "/", or a relative
 * one ("./", or "" before Vite 8), where each page reaches the output's root
 * by its own relative path (`page` is the page's path from that root).
 */
export function registerTag(base: string, page: string, ui: string | undefined): HtmlTagDescriptor {
  const src = base === '' || base.startsWith('.') ? relativeToPage(page) : `${base}register.js`;
  // data-ui with no value puts <outbox-status> in the corner; a value is the selector of its host.
  const attrs: Record<string, string | boolean> = { src, defer: true };
  if (ui !== undefined) attrs['data-ui'] = ui === '' ? true : ui;
  return { tag: 'script', attrs, injectTo: 'head' };
}

function relativeToPage(page: string): string {
  const path = posix.relative(posix.dirname(posix.join('/', page)), '/register.js');
  return path.startsWith('.') ? path : `./${path}`;
}
