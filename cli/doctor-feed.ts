/**
 * The change feed (`changes` in the manifest), asked as the page and the
 * worker ask it: the stream as an EventSource opens it, which a buffering
 * proxy or a server that writes nothing on connect keeps silent; and `since`
 * with an empty cursor, whose answer must have the shape the worker's
 * catch-up reads (sw/changes/changes.ts), notices as common/notice.ts
 * `parseNotice` accepts them.
 */
import { parseNotice } from '../common/notice.js';
import { isObject } from '../common/json.js';
import type { Manifest } from '../sw/manifest/types.js';
import { type Finding, finding, YOUR_SERVER } from './doctor-finding.js';
import type { Prober } from './doctor-probe.js';

/** What the worker's catch-up reads (it also takes a bare array of notices). */
const SHAPE = '{"notices": [...], "cursor": "…"} or {"reset": true, "cursor": "…"}';
const FEED_FIX = `offline-outbox/server's changeFeed(); ${YOUR_SERVER}`;

export async function feedFindings(prober: Prober, manifest: Manifest, page: URL): Promise<Finding[]> {
  const { changes } = manifest;
  if (!changes?.stream && !changes?.since && !changes?.websocket)
    return [
      finding(
        'feed',
        'changes',
        'unknown',
        "no change feed in the manifest: other devices' edits show only when a read revalidates",
        `add "changes" to the manifest (${FEED_FIX})`,
      ),
    ];
  const rows: Finding[] = [];
  if (changes.stream) rows.push(await streamFinding(prober, new URL(changes.stream, page.origin), changes.stream));
  else if (changes.websocket) rows.push(finding('feed-stream', changes.websocket, 'unknown', 'a WebSocket feed: doctor does not open WebSockets'));
  if (changes.since) rows.push(await sinceFinding(prober, manifest, changes.since, page));
  else
    rows.push(
      finding(
        'feed-since',
        'changes.since',
        'warn',
        'no "since": notices missed while offline are never caught up',
        `add "since": "/api/changes?since={cursor}" to changes (${FEED_FIX})`,
      ),
    );
  return rows;
}

async function streamFinding(prober: Prober, url: URL, subject: string): Promise<Finding> {
  const seconds = `${prober.timeoutMs / 1000} s`;
  const buffered = `send the headers at once (flush them), write a comment line (": connected") or "retry:" on connect, and send "X-Accel-Buffering: no" so a proxy (nginx) does not buffer the stream`;
  const probed = await prober.stream(url, { accept: 'text/event-stream', 'cache-control': 'no-cache' });
  if (!probed.ok) {
    if (probed.timedOut)
      return finding('feed-stream', subject, 'warn', `no answer (not even headers) within ${seconds}: buffered by a proxy, or the server sends nothing on connect`, buffered);
    return finding('feed-stream', subject, 'blocker', `${probed.error}: the page cannot follow the feed`, `serve the event stream at ${subject} (${FEED_FIX})`);
  }
  const { status, headers, body } = probed.answer;
  if (status < 200 || status >= 300)
    return finding('feed-stream', subject, 'blocker', `answers ${status}: the page cannot follow the feed`, `serve the event stream at ${subject} (${FEED_FIX})`);
  const type = headers.get('content-type') ?? '';
  if (type.split(';')[0]!.trim().toLowerCase() !== 'text/event-stream')
    return finding(
      'feed-stream',
      subject,
      'blocker',
      `Content-Type: ${type || '(none)'}: EventSource accepts only text/event-stream, so the page never hears a notice`,
      `answer GET ${subject} with "Content-Type: text/event-stream" (${FEED_FIX})`,
    );
  if (!probed.firstByte) return finding('feed-stream', subject, 'warn', `nothing arrived within ${seconds}: buffered by a proxy, or the server sends nothing on connect`, buffered);
  const first = body.split('\n')[0]!.slice(0, 40);
  return finding('feed-stream', subject, 'ok', `text/event-stream, first line within ${seconds}: ${JSON.stringify(first)}`);
}

async function sinceFinding(prober: Prober, manifest: Manifest, since: string, page: URL): Promise<Finding> {
  // The worker asks with its last cursor; the first time a page ever connects, there is none.
  const url = new URL(since.replace('{cursor}', ''), page.origin);
  const subject = since;
  const probed = await prober.request(url, { headers: { accept: 'application/json' } });
  if (!probed.ok) return finding('feed-since', subject, 'blocker', `${probed.error}: missed notices are never caught up`, `serve ${subject} (${FEED_FIX})`);
  const { status, body } = probed.answer;
  if (status < 200 || status >= 300)
    return finding(
      'feed-since',
      subject,
      'blocker',
      `answers ${status} to an empty cursor: the worker's catch-up fails`,
      `answer ${subject} with 2xx JSON, ${SHAPE} (${FEED_FIX})`,
    );
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return finding('feed-since', subject, 'blocker', `not JSON (${JSON.stringify(body.slice(0, 40))}): the worker's catch-up fails`, `answer with JSON: ${SHAPE}`);
  }
  const cursor = isObject(value) && typeof value.cursor === 'string' && value.cursor !== '' ? value.cursor : undefined;
  if (isObject(value) && value.reset === true)
    return cursor
      ? finding('feed-since', subject, 'ok', `{"reset": true, "cursor": ${JSON.stringify(cursor)}}: the worker refreshes its cache and goes on from there`)
      : finding(
          'feed-since',
          subject,
          'blocker',
          '{"reset": true} without a cursor: the worker cannot go on from a reset',
          'add "cursor" (where the feed stands now) to a reset answer',
        );
  const list = Array.isArray(value) ? value : isObject(value) ? value.notices : undefined;
  if (!Array.isArray(list))
    return finding('feed-since', subject, 'blocker', `expected ${SHAPE}; got ${describeValue(value)}: the worker's catch-up fails`, `answer ${SHAPE} (${FEED_FIX})`);
  const known = (name: string) => Object.hasOwn(manifest.resources ?? {}, name);
  const bad = list.filter((n) => !parseNotice(n, known));
  if (bad.length)
    return finding(
      'feed-since',
      subject,
      'warn',
      `${bad.length} of ${list.length} notices are not notices the worker accepts (such as ${JSON.stringify(bad[0]).slice(0, 80)}): they are ignored`,
      `each notice: {"resource": <a name in resources>, "id", "type": created|updated|deleted, "version"?, "cursor"?} (common/notice.ts; offline-outbox/server checks them)`,
    );
  if (!cursor && list.length && !list.some((n) => isObject(n) && typeof n.cursor === 'string'))
    return finding(
      'feed-since',
      subject,
      'warn',
      'no cursor in the answer nor on its notices: the worker asks for the same notices again',
      'add "cursor" (where the feed stands after these notices)',
    );
  return finding(
    'feed-since',
    subject,
    'ok',
    `${list.length} notice${list.length === 1 ? '' : 's'}${cursor ? `, cursor ${JSON.stringify(cursor)}` : ''}: the shape the worker reads`,
  );
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (isObject(value)) return `an object with ${Object.keys(value).join(', ') || 'no fields'}`;
  return JSON.stringify(value) ?? String(value);
}
