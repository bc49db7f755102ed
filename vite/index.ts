/** `offline-outbox/vite`: the Vite plugin. */
export { offlineOutbox } from './offline-outbox-plugin.js';
export type { OfflineOutboxOptions } from './options.js';
