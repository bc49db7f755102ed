// The public API of `offline-outbox/sw`, for apps with their own service worker.
export { installOutbox } from './install-outbox.js';
export type { InstallOptions } from './install-outbox.js';
export { OutboxStrategy } from './outbox/outbox-strategy.js';
export type { OutboxStrategyOptions } from './outbox/outbox-strategy.js';
export { ReadYourWritesPlugin } from './plugins/read-your-writes.js';
export type { ReadYourWritesOptions } from './plugins/read-your-writes.js';
export { OutboxError, isOutboxError } from './errors.js';
export type { OutboxErrorCode } from './errors.js';
export { validateManifest, formatIssue } from './manifest/validate.js';
export type {
  CacheOptions,
  CacheStrategyName,
  ChangesSpec,
  ConflictPolicy,
  HttpMethod,
  Manifest,
  ManifestIssue,
  PriorityName,
  QueueOptions,
  ResourceSpec,
  RouteSpec,
  ValidationResult,
} from './manifest/types.js';
