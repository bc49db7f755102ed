// The public API of `offline-outbox/client`.
export { registerOutbox } from './register-outbox.js';
export type { RegisterOptions } from './register-outbox.js';
export { connectOutbox, OutboxClientError, isOutboxClientError } from './connect-outbox.js';
export type { ConnectOptions, OutboxClient } from './connect-outbox.js';
export { defineOutboxStatus, OutboxStatusElement } from './outbox-status.js';
export { forwardChanges } from './changes-feed.js';
export { CHANNEL_NAME, PROTOCOL_VERSION, isOutboxEvent } from '../common/messages.js';
export type { EntryState, EntrySummary, OutboxEvent, OutboxEventMap, OutboxEventType, OutboxStatus, Resolution } from '../common/messages.js';
export type { ChangesSpec } from '../common/manifest.js';
