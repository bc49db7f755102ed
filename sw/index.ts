// The public API of `offline-outbox/sw`, for apps with their own service worker.
export { installOutbox } from './install-outbox.js';
export type { InstallOptions } from './install-outbox.js';
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
