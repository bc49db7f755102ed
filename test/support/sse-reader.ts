/**
 * A Server-Sent Events client for tests: fetch, and a parser that follows
 * the spec's field rules (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation),
 * keeping what a browser's EventSource would see plus the comment lines.
 */

export interface ReceivedEvent {
  /** `message` unless the event named its type. */
  type: string;
  data: string;
  /** The last event id when it was dispatched. */
  lastEventId: string;
}

export interface EventReader {
  readonly response: Response;
  readonly events: ReceivedEvent[];
  readonly comments: string[];
  /** The id an EventSource would send as Last-Event-ID on reconnecting. */
  readonly lastEventId: string;
  readonly retryMs: number | undefined;
  /** Whether the server ended the stream. */
  readonly ended: boolean;
  /** Waits (polling, up to `ms`) until `condition` holds; rejects with what was received. */
  until(condition: (reader: EventReader) => boolean, ms?: number): Promise<void>;
  /** The client goes away. */
  close(): void;
}

/** Opens `url` as an event stream; `lastEventId` is sent as the Last-Event-ID header. */
export async function openEvents(url: string, lastEventId?: string): Promise<EventReader> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId }, signal: controller.signal });
  const events: ReceivedEvent[] = [];
  const comments: string[] = [];
  let last = lastEventId ?? '';
  let retryMs: number | undefined;
  let ended = false;
  let type = '';
  let data: string[] = [];
  let idBuffer = last;

  const line = (text: string) => {
    if (text === '') {
      // Dispatch: the id is taken even when there is no data (the event is then not fired).
      last = idBuffer;
      if (data.length) events.push({ type: type || 'message', data: data.join('\n'), lastEventId: last });
      type = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) return void comments.push(text.slice(1).trimStart());
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) idBuffer = value;
    else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
  };

  void (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    const body = response.body.getReader();
    let buffered = '';
    try {
      for (;;) {
        const { done, value } = await body.read();
        if (done) break;
        buffered += decoder.decode(value, { stream: true });
        const lines = buffered.split(/\r\n|\r|\n/);
        buffered = lines.pop()!;
        for (const text of lines) line(text);
      }
    } catch {}
    ended = true;
  })();

  const reader: EventReader = {
    response,
    events,
    comments,
    get lastEventId() {
      return last;
    },
    get retryMs() {
      return retryMs;
    },
    get ended() {
      return ended;
    },
    async until(condition, ms = 5000) {
      const end = Date.now() + ms;
      while (!condition(reader)) {
        if (Date.now() > end)
          throw new Error(`event stream ${url}: condition not met within ${ms} ms; got ${events.length} events (${JSON.stringify(events.slice(-3))}), ended: ${ended}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: () => controller.abort(),
  };
  return reader;
}
