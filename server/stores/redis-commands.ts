/**
 * The few things `redisStore` needs from a Redis client, so any client fits:
 *
 *   interface RedisCommands {
 *     send(args, options?)  // ['SET', key, value, 'NX', 'PX', '30000'] → the raw reply
 *     duplicate()           // a second connection of its own, with close()
 *   }
 *
 * `send` resolves with the reply as RESP gives it: strings, numbers, null,
 * arrays of those (a RESP3 map may come as a flat [key, value, …] array, a
 * plain object or a Map). It rejects with an Error whose `name` is
 * 'ReplyError' when Redis answered with an error (the message is the reply,
 * e.g. 'WRONGTYPE Operation against a key…'); any other rejection is taken as
 * the connection failing. `options.signal` aborts when the store stops
 * waiting; a client that can drop a command still queued should do so then.
 * `duplicate` is for the blocking XREAD loop, which must not hold the
 * caller's connection. `redisStore` puts a deadline on every command and
 * connection (`guarded` below): late or failed for any reason but an error
 * reply, it becomes StoreUnavailableError.
 *
 * node-redis (v4, v5) and ioredis are adapted here (`fromNodeRedis`,
 * `fromIoredis`; `redisStore` picks one by itself). Any other client plugs in
 * as such an object; with valkey-glide, for instance:
 *
 *   const commands = (glide) => ({
 *     send: (args) => glide.customCommand([...args]).catch((error) => {
 *       // Redis answered with an error (glide's RequestError): say so by name.
 *       if (error instanceof RequestError) error.name = 'ReplyError';
 *       throw error;
 *     }),
 *     duplicate: async () => {
 *       const own = await GlideClient.createClient(config);
 *       return { ...commands(own), close: async () => own.close() };
 *     },
 *   });
 *   const store = redisStore(commands(await GlideClient.createClient(config)));
 *
 * This file only describes clients by shape: it never imports 'redis' or
 * 'ioredis', which stay optional.
 */
import { StoreUnavailableError } from '../store.js';

export interface SendOptions {
  /** Aborted when the store gives up waiting (it timed out). */
  signal?: AbortSignal;
}

export interface RedisCommands {
  send(args: readonly string[], options?: SendOptions): Promise<unknown>;
  /** A new connection; when `signal` aborts before it is made, it is given up and closed. */
  duplicate(options?: SendOptions): Promise<RedisConnection>;
}

/** A connection of the store's own: it closes it when done. */
export type RedisConnection = RedisCommands & { close(): Promise<void> };

interface Emitter {
  on?(event: 'error', listener: (error: unknown) => void): unknown;
}

/** node-redis v4/v5 (`redis`, `@redis/client`), by shape. */
export interface NodeRedisClientLike extends Emitter {
  // `signal` is v4's name for the option, `abortSignal` v5's.
  sendCommand(args: string[], options?: { abortSignal?: AbortSignal; signal?: AbortSignal }): Promise<unknown>;
  duplicate(overrides?: { disableOfflineQueue?: boolean }): NodeRedisClientLike & {
    connect(): Promise<unknown>;
    destroy?(): void;
    disconnect?(): Promise<void>;
    close?(): Promise<void>;
    quit?(): Promise<unknown>;
  };
}

/** ioredis, by shape. */
export interface IoredisClientLike extends Emitter {
  call(command: string, ...args: string[]): Promise<unknown>;
  duplicate(override?: {
    lazyConnect?: boolean;
    enableOfflineQueue?: boolean;
    autoResendUnfulfilledCommands?: boolean;
    retryStrategy?: (times: number) => number | null;
  }): IoredisClientLike & {
    connect(): Promise<unknown>;
    disconnect(): void;
  };
}

class ReplyError extends Error {
  override readonly name = 'ReplyError';
}

/** Redis's own error replies carry the class ErrorReply (v4) or a subclass of it (v5); node-redis names none of them. */
function isNodeRedisReply(error: unknown): boolean {
  for (let proto = error === null || typeof error !== 'object' ? null : Object.getPrototypeOf(error); proto; proto = Object.getPrototypeOf(proto)) {
    if (proto.constructor?.name === 'ErrorReply') return true;
  }
  return false;
}

/**
 * Connects a duplicate that is ours: quiet (an 'error' event without a
 * listener would crash the process when Redis goes away; its failures reach
 * us through `send`), and shut when `signal` aborts first.
 */
async function connected<T extends Emitter>(own: T, connect: () => Promise<unknown>, shut: () => unknown, signal?: AbortSignal): Promise<T> {
  own.on?.('error', () => {});
  const stop = () =>
    void Promise.resolve()
      .then(shut)
      .catch(() => {});
  signal?.addEventListener('abort', stop, { once: true });
  try {
    await connect();
  } catch (error) {
    stop();
    throw error;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
  if (signal?.aborted) {
    stop();
    throw new Error('Gave up connecting');
  }
  return own;
}

function nodeRedisCommands(client: NodeRedisClientLike): RedisCommands {
  return {
    send: (args, options) =>
      // node-redis queues commands while it reconnects; the signal drops one the store gave up on, so it never runs late.
      client.sendCommand([...args], options?.signal ? { abortSignal: options.signal, signal: options.signal } : undefined).catch((error: unknown) => {
        throw isNodeRedisReply(error) ? new ReplyError((error as Error).message, { cause: error }) : error;
      }),
    async duplicate(options) {
      // Without an offline queue, a command on a broken connection fails at once rather than at the deadline.
      const fresh = client.duplicate({ disableOfflineQueue: true });
      // Forcibly (v5 destroy, v4 disconnect): a graceful close would wait up to a whole XREAD BLOCK for its reply.
      const shut = async () => {
        if (fresh.destroy) fresh.destroy();
        else if (fresh.disconnect) await fresh.disconnect();
        else await (fresh.close?.() ?? fresh.quit?.());
      };
      const own = await connected(fresh, () => fresh.connect(), shut, options?.signal);
      return { ...nodeRedisCommands(own), close: () => shut().catch(() => {}) };
    },
  };
}

function ioredisCommands(client: IoredisClientLike): RedisCommands {
  return {
    // ioredis cannot drop a queued command: one that timed out may still run once Redis is back.
    send: ([command, ...args]) => client.call(command!, ...args),
    async duplicate(options) {
      // Fail at once on a broken connection, never replay a blocking read on the next one, and leave
      // reconnecting to the store (a reconnecting ioredis keeps an unanswered command pending).
      const fresh = client.duplicate({ lazyConnect: true, enableOfflineQueue: false, autoResendUnfulfilledCommands: false, retryStrategy: () => null });
      const shut = () => fresh.disconnect();
      const own = await connected(fresh, () => fresh.connect(), shut, options?.signal);
      return { ...ioredisCommands(own), close: async () => shut() };
    },
  };
}

/** Adapts a node-redis v4/v5 client. */
export const fromNodeRedis = (client: NodeRedisClientLike): RedisCommands => nodeRedisCommands(client);

/** Adapts an ioredis client. */
export const fromIoredis = (client: IoredisClientLike): RedisCommands => ioredisCommands(client);

export type RedisClient = RedisCommands | NodeRedisClientLike | IoredisClientLike;

const has = (value: unknown, method: string) => typeof (value as Record<string, unknown> | null)?.[method] === 'function';

/** Whichever client it is given, as RedisCommands. */
export function toRedisCommands(client: RedisClient): RedisCommands {
  if (has(client, 'send') && has(client, 'duplicate')) return client as RedisCommands;
  // Before sendCommand: ioredis has one too, taking a Command object rather than arguments.
  if (has(client, 'call') && has(client, 'duplicate')) return fromIoredis(client as IoredisClientLike);
  if (has(client, 'sendCommand') && has(client, 'duplicate')) return fromNodeRedis(client as NodeRedisClientLike);
  throw Object.assign(
    new TypeError(
      'redisStore(client): the client is neither a node-redis client (sendCommand), an ioredis client (call) nor a RedisCommands object ({ send(args), duplicate() }). Pass one of those, e.g. createClient({ url }) from "redis" after await client.connect().',
    ),
    { code: 'unknown-redis-client' },
  );
}

/**
 * Error replies that mean "not now" rather than "never": a Redis loading its
 * data, busy with a script, a replica that was the primary, a cluster
 * reconfiguring, a disk that refuses writes.
 */
const UNAVAILABLE_REPLIES = new Set(['LOADING', 'BUSY', 'MASTERDOWN', 'READONLY', 'TRYAGAIN', 'CLUSTERDOWN', 'MISCONF', 'NOREPLICAS']);

/** Why a command failed, as the store reports it: StoreUnavailableError unless Redis itself refused it for good. */
function classified(what: string, error: unknown): unknown {
  const reply = (error as { name?: unknown } | null)?.name === 'ReplyError' ? String((error as Error).message) : undefined;
  if (reply !== undefined && !UNAVAILABLE_REPLIES.has(reply.split(' ', 1)[0]!)) return error;
  return new StoreUnavailableError(
    `Redis failed ${what}: ${reply ?? (error as Error | null)?.message ?? String(error)}. Check that Redis is running and reachable; the client reconnects on its own and the next command retries.`,
    { cause: error },
  );
}

/** `start(signal)` settled within `timeoutMs`, or StoreUnavailableError (and `signal` aborted). */
function withDeadline<T>(what: string, timeoutMs: number, start: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      abort.abort();
      reject(
        new StoreUnavailableError(
          `Redis did not answer ${what} within ${timeoutMs} ms. Check that Redis is running and reachable; if it is only slow, raise redisStore(client, { commandTimeoutMs }).`,
        ),
      );
    }, timeoutMs);
    const settle = (finish: () => void) => {
      clearTimeout(timer);
      if (!abort.signal.aborted) finish(); // else the deadline has answered already
    };
    // Started synchronously, so commands reach the connection in call order.
    let started: Promise<T>;
    try {
      started = start(abort.signal);
    } catch (error) {
      started = Promise.reject(error);
    }
    started.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(classified(what, error))),
    );
  });
}

/** A command as a message names it: its name and key, never a script's text. */
const named = ([command = '', ...rest]: readonly string[]) =>
  command === 'EVAL' ? `EVAL on ${rest[2]}` : command === 'XREAD' ? `XREAD on ${rest[rest.length - 2]}` : `${command} ${rest[0] ?? ''}`.trim();

export interface GuardOptions {
  /** How long the command may block on purpose (XREAD BLOCK) on top of the deadline, in milliseconds. */
  extraMs?: number;
}

/** RedisCommands whose every command and connection answers within `commandTimeoutMs` or rejects with StoreUnavailableError. */
export interface GuardedCommands {
  send(args: readonly string[], options?: GuardOptions): Promise<unknown>;
  duplicate(): Promise<GuardedCommands & { close(): Promise<void> }>;
}

/**
 * Deadlines on `commands`: a command not answered within `commandTimeoutMs`,
 * or failing for any reason but a Redis error reply, rejects with
 * StoreUnavailableError. Error replies (WRONGTYPE, NOSCRIPT, …) stay as
 * they are, except the transient ones above. Told apart by `name`
 * 'ReplyError', which fromIoredis keeps from ioredis and fromNodeRedis gives
 * node-redis's ErrorReply.
 */
export function guarded(commands: RedisCommands, commandTimeoutMs: number): GuardedCommands {
  return {
    send: (args, options) => withDeadline(named(args), commandTimeoutMs + (options?.extraMs ?? 0), (signal) => commands.send(args, { signal })),
    async duplicate() {
      const own = await withDeadline('a new connection', commandTimeoutMs, (signal) => commands.duplicate({ signal }));
      return {
        ...guarded(own, commandTimeoutMs),
        close: () =>
          Promise.resolve()
            .then(() => own.close())
            .catch(() => {}),
      };
    },
  };
}
