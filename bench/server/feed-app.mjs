/**
 * One instance of the fan-out case:
 *
 *   node feed-app.mjs <dist/server.mjs> <redis://…>
 *
 * changeFeed({ store: redisStore(node-redis client) }) on node:http:
 * `GET /changes/stream` is the feed's `sse`; `POST /publish` takes a notice
 * as JSON, publishes it and answers 201 `{"cursor": …}`. Every instance on
 * the same Redis sees every notice, whichever instance published it. Says
 * `{ type: 'ready', port }` over IPC once listening; SIGTERM stops it.
 */
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

const [distFile, redisUrl] = process.argv.slice(2);
/** Tells the parent why, then exits; never settles, so `await fail(…)` stops here. */
const fail = (message) => new Promise(() => process.send({ type: 'error', message }, () => process.exit(1)));

const lib = await import(pathToFileURL(distFile).href).catch((error) => fail(`cannot import ${distFile}: ${error.message}`));
const { createClient } = await import('redis');
const client = createClient({ url: redisUrl });
client.on('error', (error) => console.error(`bench feed instance: redis client: ${error.message}`));
await client.connect().catch((error) => fail(`cannot connect to ${redisUrl}: ${error.message}`));
const store = lib.redisStore(client, { prefix: 'bench:' });
const feed = lib.changeFeed({ store });

function answer(res, status, value) {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function publish(req, res) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const cursor = await feed.publish(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  answer(res, 201, { cursor });
}

const server = createServer((req, res) => {
  const path = req.url?.split('?')[0];
  const onError = (error) => {
    console.error(`bench feed instance: ${error?.stack ?? error}`);
    if (!res.headersSent) answer(res, 500, { error: String(error?.message ?? error) });
    else res.destroy();
  };
  try {
    if (req.method === 'GET' && path === '/changes/stream') return void Promise.resolve(feed.sse(req, res)).catch(onError);
    if (req.method === 'POST' && path === '/publish') return void publish(req, res).catch(onError);
    answer(res, 404, { error: 'not found' });
  } catch (error) {
    onError(error);
  }
});
// A thousand streams arrive at once; the default backlog (511) would drop some SYNs and delay them by a second.
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => process.send({ type: 'ready', port: server.address().port }));

process.on('SIGTERM', async () => {
  server.close();
  server.closeAllConnections();
  await feed.close?.();
  await store.close();
  await client.quit().catch(() => {});
  process.exit(0);
});
