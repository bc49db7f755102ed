/**
 * The client side of the fan-out case, one process:
 *
 *   node fanout.mjs '<json: { a, b, clients, publishes, gapMs }>'
 *
 * 1. single: one SSE client on instance B; `publishes` times, a notice is
 *    published on instance A and the time until that client reads the
 *    event with the cursor `publish` answered is recorded.
 * 2. fan-out: `clients` SSE clients, half on A and half on B, all open;
 *    then the same, recording when each client reads the event.
 * Time runs from just before the publish request leaves this process to
 * the moment a chunk holding the event arrives at a client's socket, both
 * on this process's clock; the notice itself carries no time. Each publish
 * waits until every client has it (or DELIVERY_TIMEOUT_MS) and then
 * `gapMs` more, so publishes never overlap. Sends `{ type: 'result', … }`.
 */
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';

const config = JSON.parse(process.argv[2] ?? '{}');
const { a, b, clients, publishes, gapMs } = config;
const DELIVERY_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 30_000;
/** Streams opened at once; a server's accept queue takes a few hundred at a time. */
const CONNECT_BATCH = 100;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One SSE client. `onEvent(id, data, at)` for every event with an `id:`,
 * `at` the arrival time of the chunk that completed it.
 */
function openStream(port, onEvent) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/changes/stream', agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`GET /changes/stream on port ${port}: status ${res.statusCode}`));
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk) => {
        const at = performance.now();
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let id;
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('id:')) id = line.slice(3).trim();
            else if (line.startsWith('data:')) data += line.slice(5).trim();
          }
          if (id !== undefined) onEvent(id, data, at);
          end = buffer.indexOf('\n\n');
        }
      });
      resolve({ close: () => req.destroy() });
    });
    req.setTimeout(CONNECT_TIMEOUT_MS, () => req.destroy(new Error(`GET /changes/stream on port ${port}: no answer within ${CONNECT_TIMEOUT_MS} ms`)));
    req.on('response', () => req.setTimeout(0));
    req.on('error', reject);
    req.end();
  });
}

function publish(port, notice) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(notice);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/publish',
        method: 'POST',
        agent: false,
        noDelay: true,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => (res.statusCode === 201 ? resolve(JSON.parse(text).cursor) : reject(new Error(`POST /publish: status ${res.statusCode}: ${text}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Opens `ports.length` streams (client i on ports[i]) and publishes
 * `publishes` notices on A; per publish, each client's delivery time in ms
 * (null when it never came).
 */
async function measure(ports, label) {
  /** cursor → { times: arrival per client, count }; events may arrive before publish answers. */
  const arrivals = new Map();
  /** cursor → the event's data, to check it carried the notice published. */
  const carried = new Map();
  let allArrived = null;
  const entry = (id) => {
    let e = arrivals.get(id);
    if (!e) arrivals.set(id, (e = { times: new Array(ports.length).fill(null), count: 0 }));
    return e;
  };
  const onEvent = (client) => (id, data, at) => {
    const e = entry(id);
    if (e.times[client] !== null) return;
    e.times[client] = at;
    e.count += 1;
    if (!carried.has(id)) carried.set(id, data);
    if (e.count === ports.length) allArrived?.(id);
  };
  const streams = [];
  for (let i = 0; i < ports.length; i += CONNECT_BATCH) streams.push(...(await Promise.all(ports.slice(i, i + CONNECT_BATCH).map((port, j) => openStream(port, onEvent(i + j))))));

  const rounds = [];
  const mismatched = [];
  for (let n = 0; n < publishes; n++) {
    const notice = { resource: 'items', id: `${label}-${n}`, type: 'updated', version: n + 1 };
    const sentAt = performance.now();
    const cursor = await publish(a, notice);
    if (entry(cursor).count < ports.length)
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, sentAt + DELIVERY_TIMEOUT_MS - performance.now()));
        allArrived = (id) => id === cursor && (clearTimeout(timer), resolve());
      });
    allArrived = null;
    const { times, count } = entry(cursor);
    // Not one client: the cursors do not match (or the feed is not delivering); waiting for the rest would only take longer.
    if (count === 0)
      throw new Error(
        `no client read an event with id "${cursor}" (the cursor publish answered) within ${DELIVERY_TIMEOUT_MS} ms; ids seen: ${[...arrivals.keys()].slice(-3).join(', ') || 'none'}`,
      );
    const data = carried.get(cursor);
    if (data !== undefined && !data.includes(`"${notice.id}"`)) mismatched.push({ cursor, data });
    rounds.push(times.map((t) => (t === null ? null : t - sentAt)));
    arrivals.delete(cursor);
    await sleep(gapMs);
  }
  for (const s of streams) s.close();
  return { rounds, mismatched };
}

async function main() {
  await send({ type: 'ready' });
  const single = await measure([b], 'single');
  const ports = Array.from({ length: clients }, (_, i) => (i % 2 ? b : a));
  const fanout = await measure(ports, 'fanout');
  await send({ type: 'result', single, fanout, onB: ports.map((p) => p === b) });
}

/** Resolves once the message is handed to the parent (exiting earlier could lose it). */
const send = (message) => new Promise((resolve) => process.send(message, () => resolve()));

main().then(
  () => process.exit(0),
  async (error) => {
    await send({ type: 'error', message: error?.stack ?? String(error) });
    process.exit(1);
  },
);
