/**
 * Opens what the example keeps, in one of two places:
 *
 *   - the data file (default): the todos and the memory store's state
 *     (idempotency keys, change feed) in one JSON file, written after every
 *     change before the answer: `memoryStore({ restore, onChange: save })`;
 *   - Redis (`REDIS_URL`): the todos in one key, keys and feed in
 *     `redisStore`, so any number of instances serve the same data.
 *
 * Either way it gives `{ todos, store, where, close }`: `todos` answers the
 * API (lib/todo-data.mjs), `store` is what `idempotency()` and
 * `changeFeed()` run on, `where` says where the data is.
 */
import { memoryStore, redisStore } from 'offline-outbox/server';
import { createDataFile, readDataFile } from './data-file.mjs';
import { fileTodoData, redisTodoData } from './todo-data.mjs';

/** 2: the memory store's state under `outbox` (1 had the example's own `changes` and `idempotency`). */
export const DATA_FORMAT = 2;
export const REDIS_CONNECT_MS = 5000; // how long to wait for Redis at start
export const REDIS_TODOS_KEY = 'todo:todos';
export const REDIS_PREFIX = 'todo:outbox:';

/** `{ dataPath }` or `{ redisUrl }`; rejects with a message that says what to do. */
export function openStorage({ dataPath, redisUrl }) {
  return redisUrl ? openRedis(redisUrl) : openFile(dataPath);
}

async function openFile(path) {
  const saved = await readDataFile(path);
  let notice;
  if (saved !== undefined && saved?.format === 1 && Array.isArray(saved.todos)) {
    // The todos and their versions carry over. The old change log and keys do
    // not: pages find their cursor unknown and revalidate their cache once.
    notice = `${path} was written by an older version of this example (format 1); its todos are kept, its change log and Idempotency-Keys are not`;
  } else if (saved !== undefined && saved?.format !== DATA_FORMAT) {
    throw new Error(`${path} is not a data file of this example (format ${DATA_FORMAT}); delete it or point TODO_DATA elsewhere`);
  }
  let todos;
  let store;
  const data = createDataFile(path, () => ({ format: DATA_FORMAT, ...todos.snapshot(), outbox: store.toJSON() }));
  // The store saves after each claim, kept answer and notice, before the client hears of it.
  store = memoryStore({ restore: saved?.format === DATA_FORMAT ? saved.outbox : undefined, onChange: () => data.save() });
  todos = fileTodoData(saved, () => data.save());
  if (saved?.format !== DATA_FORMAT) await data.save();
  return {
    todos,
    store,
    notice,
    where: `Data: ${path} (delete it to start again).`,
    async close() {
      await todos.close();
      await store.close();
      await data.settled();
    },
  };
}

/** node-redis, loaded only when REDIS_URL asks for it: it is an optional dependency. */
async function loadRedis() {
  try {
    return await import('redis');
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !/'redis'/.test(error.message)) throw error;
    throw new Error('REDIS_URL is set, but the redis package (node-redis) is not installed: npm install redis. Or unset REDIS_URL to keep the data in a file.');
  }
}

async function connect(client, url) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`cannot reach Redis at ${url} within ${REDIS_CONNECT_MS} ms; is redis-server running there? (npm run start:cluster starts one)`)),
      REDIS_CONNECT_MS,
    );
  });
  try {
    await Promise.race([client.connect(), late]);
  } catch (error) {
    client.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

async function openRedis(url) {
  const redis = await loadRedis();
  // Without an offline queue a command fails at once while Redis is away, so a request gets 503 rather than hanging.
  const client = redis.createClient({ url, disableOfflineQueue: true });
  const writer = client.duplicate();
  let down = false;
  for (const connection of [client, writer]) {
    // node-redis reconnects by itself; an 'error' listener keeps a lost connection from ending the process.
    connection.on('error', (error) => {
      if (!down) console.error(`todo example: Redis at ${url}: ${error.message} (reconnecting)`);
      down = true;
    });
    connection.on('ready', () => {
      down = false;
    });
  }
  await connect(client, url);
  await connect(writer, url);
  const store = redisStore(client, { prefix: REDIS_PREFIX });
  const todos = await redisTodoData({ client, writer, key: REDIS_TODOS_KEY, WatchError: redis.WatchError });
  return {
    todos,
    store,
    where: `Data: Redis at ${url} (the todos in ${REDIS_TODOS_KEY}, keys and changes under ${REDIS_PREFIX}).`,
    async close() {
      await todos.close();
      await store.close();
      await Promise.allSettled([client.close(), writer.close()]);
    },
  };
}
