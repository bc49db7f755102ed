/**
 * Where the todos live. lib/todos.mjs is the one implementation of the API;
 * a backend only loads its state (`{ todos, versions }`), runs one request on
 * it, and stores the new state when the request changed something:
 *
 *   - fileTodoData: in this process, saved in the example's data file before
 *     the answer (`npm start`);
 *   - redisTodoData: in one Redis key holding that JSON, so every instance
 *     sharing the Redis serves the same todos (`REDIS_URL`, `start:cluster`).
 *
 * Both answer `handle(method, id, request)` with `{ reply, change }`, as
 * `createTodos().handle` does. Reads run on the state as last stored; writes
 * run one at a time per process, each on the newest state, and a write's
 * answer leaves only once its state is stored.
 */
import { createTodos } from './todos.mjs';

/** How many times a Redis write is tried while other instances keep changing the todos between its read and its commit. */
export const MAX_WRITE_ATTEMPTS = 50; // attempts
const READS = new Set(['GET', 'HEAD']);

/** Runs the functions given to it one after another (a write queue per process). */
function serial() {
  let tail = Promise.resolve();
  return (task) => {
    const run = tail.then(task);
    tail = run.catch(() => {});
    return run;
  };
}

/**
 * The todos in this process. `saved` is the `{ todos, versions }` read back
 * from the data file (undefined: start with the sample todos); `save()`
 * writes the data file, taking the todos from `snapshot()`.
 *
 * A write is made on a copy: the copy becomes the state only once the file
 * holding it is on disk. A failed save leaves the todos as they were, so the
 * request can be retried (the server answers 503, which frees its Idempotency-Key).
 */
export function fileTodoData(saved, save) {
  let state = saved ? { todos: saved.todos, versions: saved.versions } : createTodos().toJSON();
  let pending;
  const queue = serial();

  return {
    /** What the data file holds now: a write being saved, else the state. */
    snapshot: () => pending ?? state,
    async handle(method, id, request) {
      if (READS.has(method)) return createTodos(state).handle(method, id, request);
      return queue(async () => {
        const todos = createTodos(state);
        const result = todos.handle(method, id, request);
        if (!result.change) return result;
        pending = todos.toJSON();
        try {
          await save();
          state = pending;
        } finally {
          pending = undefined;
        }
        return result;
      });
    },
    async close() {
      await queue(() => {});
    },
  };
}

/**
 * The todos in Redis, as one JSON string at `key`, shared by every instance.
 * `client` is a connected node-redis client (reads use it); writes use
 * `writer`, a connection of their own (a duplicate of `client`), because
 * WATCH belongs to a connection: each write WATCHes the key, reads it, runs
 * the request, and commits the new JSON in MULTI/EXEC. When another instance
 * committed in between, EXEC fails (node-redis throws `WatchError`) and the
 * write starts again on the newer todos, so two instances never lose each
 * other's changes and an If-Match is checked against what is committed.
 * Writes of one process queue for the writer connection.
 */
export async function redisTodoData({ client, writer, key, WatchError }) {
  const seed = () => JSON.stringify(createTodos().toJSON());
  // The first instance to start seeds the sample todos; NX keeps the others from replacing them.
  await client.sendCommand(['SET', key, seed(), 'NX']);
  const queue = serial();

  async function load(connection) {
    const text = await connection.get(key);
    if (text === null) {
      // Deleted under us (FLUSHALL, a new Redis): start again with the samples, once across instances.
      await connection.sendCommand(['SET', key, seed(), 'NX']);
      return load(connection);
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw Object.assign(new Error(`Redis key ${key} does not hold the todos' JSON (${error.message}); delete the key to start again with the sample todos`), {
        code: 'todo-data-corrupt',
        cause: error,
      });
    }
  }

  async function write(method, id, request) {
    for (let attempts = 1; ; attempts++) {
      await writer.watch(key);
      try {
        const todos = createTodos(await load(writer));
        const result = todos.handle(method, id, request);
        if (!result.change) {
          await writer.unwatch();
          return result;
        }
        await writer.multi().set(key, JSON.stringify(todos.toJSON())).exec();
        return result;
      } catch (error) {
        if (!(error instanceof WatchError)) {
          await writer.unwatch().catch(() => {});
          throw error;
        }
        if (attempts >= MAX_WRITE_ATTEMPTS)
          throw Object.assign(new Error(`the todos changed under ${MAX_WRITE_ATTEMPTS} attempts in a row to write them; retry the request`), { code: 'todo-write-contended' });
      }
    }
  }

  return {
    async handle(method, id, request) {
      if (READS.has(method)) return createTodos(await load(client)).handle(method, id, request);
      return queue(() => write(method, id, request));
    },
    async close() {
      await queue(() => {});
    },
  };
}
