/**
 * `offline-outbox/server`: what a Node backend needs so the worker can
 * promise "once" and "only what changed" — Idempotency-Key handling,
 * ETag preconditions and a change feed with cursors. Framework-neutral:
 * each piece is a `(req, res, next)` middleware (node:http, Express,
 * Fastify's raw request/reply) with a `.fetch` form for Fetch-API servers
 * (Hono), on an in-memory store or on Redis for many instances.
 */
export { changeFeed, InvalidNoticeError } from './change-feed.js';
export { checkNotice } from '../common/notice.js';
export { conditional, evaluatePreconditions } from './conditional.js';
export { strongEtag } from './entity-tag.js';
export { idempotency } from './idempotency.js';
export { isStoreUnavailable, StoreUnavailableError } from './store.js';
export { memoryStore } from './stores/memory-store.js';
export { fromIoredis, fromNodeRedis } from './stores/redis-commands.js';
export { redisStore } from './stores/redis-store.js';

export type { ChangeFeed, ChangeFeedOptions, PublishedNotice } from './change-feed.js';
export type { ConditionalMiddleware, ConditionalOptions } from './conditional.js';
export type { FetchHandler, IdempotencyMiddleware, IdempotencyOptions, Next } from './idempotency.js';
export type { MemoryStoreOptions, MemoryStoreState } from './stores/memory-store.js';
export type { RedisCommands, RedisConnection } from './stores/redis-commands.js';
export type { RedisStoreOptions } from './stores/redis-store.js';
export type {
  Claim,
  FeedEntry,
  FeedNotice,
  FeedRead,
  FeedStore,
  IdempotencyStore,
  OutboxStore,
  StoredResponse,
} from './store.js';
