/**
 * The server side of a change feed, for end-to-end tests: a log of notices
 * with increasing cursors, a Server-Sent Events stream that pushes each new
 * one to every open connection, and the `since` answer for a cursor.
 */
import type { Reply } from './test-server.js';

export interface FeedNotice {
  resource: string;
  id: string;
  type: 'created' | 'updated' | 'deleted';
  version?: number;
}

export function createChangeFeed() {
  const log: (FeedNotice & { cursor: string })[] = [];
  const listeners = new Set<(chunk: string) => void>();
  let next = 1;
  return {
    log,
    /** How many stream connections are open now. */
    get connections() {
      return listeners.size;
    },
    publish(notice: FeedNotice): void {
      const entry = { ...notice, cursor: `c${next++}` };
      log.push(entry);
      for (const write of listeners) write(`id: ${entry.cursor}\ndata: ${JSON.stringify(entry)}\n\n`);
    },
    /** The stream's reply: a short `retry` so a browser reconnects quickly after the server comes back. */
    stream(): Reply {
      return {
        headers: { 'content-type': 'text/event-stream', connection: 'keep-alive' },
        stream(write) {
          write('retry: 500\n\n');
          listeners.add(write);
          return () => listeners.delete(write);
        },
      };
    },
    /** `GET /api/changes?since=<cursor>`: the notices after it, and the cursor to ask from next. */
    since(url: string): Reply {
      const from = new URL(url, 'http://x').searchParams.get('since') ?? '';
      const at = log.findIndex((n) => n.cursor === from);
      const notices = log.slice(at + 1);
      return { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ notices, cursor: notices.at(-1)?.cursor ?? from }) };
    },
  };
}
