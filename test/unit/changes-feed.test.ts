import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { followChanges } from '../../client/changes-feed.js';

/** A stand-in for the browser's EventSource: the test opens, feeds and fails it. */
class FakeEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static made: FakeEventSource[] = [];
  readyState = FakeEventSource.CONNECTING;
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  constructor(
    readonly url: string,
    readonly init?: EventSourceInit,
  ) {
    FakeEventSource.made.push(this);
  }
  open() {
    this.readyState = FakeEventSource.OPEN;
    this.onopen?.();
  }
  send(data: string) {
    this.onmessage?.({ data });
  }
  /** `retrying`: the browser will reconnect by itself; otherwise it gave up (CLOSED). */
  fail(retrying: boolean) {
    this.readyState = retrying ? FakeEventSource.CONNECTING : FakeEventSource.CLOSED;
    this.onerror?.();
  }
  close() {
    this.closed = true;
    this.readyState = FakeEventSource.CLOSED;
  }
}

class FakeWebSocket {
  static made: FakeWebSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: URL) {
    FakeWebSocket.made.push(this);
  }
  close() {}
}

const target = () => {
  const delivered: unknown[][] = [];
  let catchUps = 0;
  return {
    delivered,
    get catchUps() {
      return catchUps;
    },
    deliver: async (notices: unknown[]) => void delivered.push(notices),
    catchUp: async () => void catchUps++,
  };
};

beforeEach(() => {
  vi.useFakeTimers();
  FakeEventSource.made = [];
  FakeWebSocket.made = [];
  vi.stubGlobal('EventSource', FakeEventSource);
  vi.stubGlobal('WebSocket', FakeWebSocket);
  vi.stubGlobal('location', new URL('https://app.example/todos'));
  vi.spyOn(Math, 'random').mockReturnValue(1);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('followChanges', () => {
  it('connects to the stream, asks for a catch-up on open, and forwards a notice at once and the ones behind it in a batch, raw text included', async () => {
    const t = target();
    followChanges({ stream: '/api/changes/stream' }, t);
    const source = FakeEventSource.made[0]!;
    expect(source.url).toBe('/api/changes/stream');
    source.open();
    expect(t.catchUps).toBe(1);
    for (let i = 0; i < 3; i++) source.send(JSON.stringify({ resource: 'todos', id: String(i), type: 'updated' }));
    source.send('not json');
    // The first goes at once; those that came while the worker took it, together next.
    expect(t.delivered).toEqual([[{ resource: 'todos', id: '0', type: 'updated' }]]);
    await vi.advanceTimersByTimeAsync(0);
    expect(t.delivered).toEqual([
      [{ resource: 'todos', id: '0', type: 'updated' }],
      [{ resource: 'todos', id: '1', type: 'updated' }, { resource: 'todos', id: '2', type: 'updated' }, 'not json'],
    ]);
  });

  it('sends one batch at a time: what arrives while the worker takes one goes in the next', async () => {
    let release: () => void = () => {};
    const delivered: unknown[][] = [];
    followChanges({ stream: '/s' }, { deliver: (n) => (delivered.push(n), new Promise<void>((r) => (release = r))), catchUp: async () => {} });
    const source = FakeEventSource.made[0]!;
    source.send('1');
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 2; i <= 10_000; i++) source.send(String(i));
    await vi.advanceTimersByTimeAsync(1000);
    expect(delivered.map((b) => b.length)).toEqual([1]);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(delivered.map((b) => b.length)).toEqual([1, 9_999]);
    expect(delivered[1]!.at(-1)).toBe(10_000);
  });

  it('leaves retries to the browser while it retries; once it gives up, reconnects with growing backoff, and a new open resets it', async () => {
    const t = target();
    followChanges({ stream: '/s' }, t);
    FakeEventSource.made[0]!.fail(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeEventSource.made).toHaveLength(1);
    FakeEventSource.made[0]!.fail(false);
    expect(FakeEventSource.made[0]!.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeEventSource.made).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeEventSource.made).toHaveLength(2);
    FakeEventSource.made[1]!.fail(false);
    await vi.advanceTimersByTimeAsync(1999);
    expect(FakeEventSource.made).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeEventSource.made).toHaveLength(3);
    FakeEventSource.made[2]!.open();
    expect(t.catchUps).toBe(1);
    FakeEventSource.made[2]!.fail(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeEventSource.made).toHaveLength(4);
  });

  it('uses a WebSocket (wss on an https page) when the manifest names one, and reconnects when it closes', async () => {
    const t = target();
    const stop = followChanges({ websocket: '/api/changes/ws' }, t);
    expect(FakeEventSource.made).toHaveLength(0);
    const socket = FakeWebSocket.made[0]!;
    expect(socket.url.href).toBe('wss://app.example/api/changes/ws');
    socket.onopen!();
    expect(t.catchUps).toBe(1);
    socket.onmessage!({ data: '{"resource":"todos","id":"1","type":"deleted"}' });
    await vi.advanceTimersByTimeAsync(0);
    expect(t.delivered).toEqual([[{ resource: 'todos', id: '1', type: 'deleted' }]]);
    socket.onclose!();
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeWebSocket.made).toHaveLength(2);
    stop();
    FakeWebSocket.made[1]!.onclose!();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeWebSocket.made).toHaveLength(2);
  });
});
