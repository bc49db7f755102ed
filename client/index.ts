// The public API of `offline-outbox/client`.
export { registerOutbox } from './register-outbox.js';
export type { RegisterOptions } from './register-outbox.js';
export { CHANNEL_NAME, PROTOCOL_VERSION, isOutboxEvent } from '../common/messages.js';
export type { OutboxEvent, OutboxEventMap, OutboxEventType } from '../common/messages.js';
