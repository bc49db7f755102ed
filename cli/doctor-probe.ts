/**
 * HTTP as doctor asks it: Node's fetch, every request within one deadline,
 * redirects reported rather than followed (the worker stores only 2xx, and a
 * browser refuses a redirected worker script), bodies read up to a cap. Every
 * answer is kept: a header seen on any of them (Idempotency-Key-Supported)
 * counts.
 */

export interface Answer {
  method: string;
  url: string;
  status: number;
  headers: Headers;
  /** The body as text, up to MAX_BODY_BYTES; for a stream, what arrived first (empty when nothing did). */
  body: string;
}

export type Probed = { ok: true; answer: Answer } | { ok: false; method: string; url: string; error: string };

/** A stream's first moments: its answer (headers), and whether any byte of its body came within the deadline. */
export type StreamProbed = { ok: true; answer: Answer; firstByte: boolean } | { ok: false; method: string; url: string; error: string; timedOut: boolean };

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Follow redirects, as the worker's own fetch of the manifest does. @default false */
  follow?: boolean;
}

/** Pages and JSON bigger than this are cut: doctor reads a tag, an array's first item, a cursor. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** At most this many requests at once: a browser's connections per host, and gentle on a dev server. */
const CONCURRENCY = 6;

export interface Prober {
  readonly timeoutMs: number;
  request(url: string | URL, options?: RequestOptions): Promise<Probed>;
  /** Opens a stream, waits for its first byte (until the deadline), then aborts it. */
  stream(url: string | URL, headers: Record<string, string>): Promise<StreamProbed>;
  /** Every answer so far, in arrival order. */
  readonly answers: readonly Answer[];
}

export function createProber(timeoutMs: number): Prober {
  const answers: Answer[] = [];
  const seconds = `${timeoutMs / 1000} s`;
  let running = 0;
  const waiting: (() => void)[] = [];
  const slot = async () => {
    if (running >= CONCURRENCY) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
  };
  const release = () => {
    running--;
    waiting.shift()?.();
  };

  return {
    timeoutMs,
    answers,
    async request(url, { method = 'GET', headers = {}, follow = false } = {}) {
      const href = String(url);
      await slot();
      try {
        const signal = AbortSignal.timeout(timeoutMs);
        const response = await fetch(href, { method, headers, redirect: follow ? 'follow' : 'manual', signal });
        const answer: Answer = { method, url: href, status: response.status, headers: response.headers, body: await readCapped(response) };
        answers.push(answer);
        return { ok: true, answer };
      } catch (error) {
        return { ok: false, method, url: href, error: describeFailure(error, seconds) };
      } finally {
        release();
      }
    },
    async stream(url, headers) {
      const href = String(url);
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new DOMException('deadline', 'TimeoutError')), timeoutMs);
      try {
        const response = await fetch(href, { headers, redirect: 'manual', signal: controller.signal });
        const answer: Answer = { method: 'GET', url: href, status: response.status, headers: response.headers, body: '' };
        answers.push(answer);
        const reader = response.body?.getReader();
        let firstByte = false;
        try {
          for (;;) {
            const { done, value } = (await reader?.read()) ?? { done: true, value: undefined };
            if (done) break;
            if (value.byteLength) {
              answer.body = new TextDecoder().decode(value);
              firstByte = true;
              break;
            }
          }
        } catch {
          // The deadline passed while waiting for a byte: that is the finding, not an error.
        }
        return { ok: true, answer, firstByte };
      } catch (error) {
        return { ok: false, method: 'GET', url: href, error: describeFailure(error, seconds), timedOut: controller.signal.aborted };
      } finally {
        clearTimeout(timer);
        // A stream stays open by design: leave it, or the server keeps it (and the command keeps running).
        controller.abort();
      }
    },
  };
}

async function readCapped(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= MAX_BODY_BYTES) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Why a request got no answer, in a user's words: the deadline, or the system's error code. */
function describeFailure(error: unknown, seconds: string): string {
  const name = (error as { name?: string } | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${seconds}`;
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const code = cause?.code;
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host not found (DNS)',
    EHOSTUNREACH: 'host unreachable',
    ETIMEDOUT: 'connection timed out',
  };
  if (code) return `${words[code] ?? cause?.message ?? 'network error'} (${code})`;
  return cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** Header value for a row: `Cache-Control: no-store`, or `no Cache-Control`. */
export const shownHeader = (headers: Headers, name: string): string => {
  const value = headers.get(name);
  return value === null ? `no ${name}` : `${name}: ${value}`;
};

/** A URL as a row shows it: its path (and query) on the page's origin, else in full. */
export const shownUrl = (url: string | URL, origin: string): string => {
  const u = new URL(url);
  return u.origin === origin ? `${u.pathname}${u.search}` : u.href;
};
