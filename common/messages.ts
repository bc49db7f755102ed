/**
 * The page ↔ worker protocol: one typed map of event type → payload, imported
 * by both `sw/` and `client/`. Events travel on a BroadcastChannel so every
 * tab of the origin hears them, controlled or not (a worker that failed to
 * install controls no page, yet its errors must reach one).
 */
export const CHANNEL_NAME = 'offline-outbox';
/** Bumped when a payload changes shape; each side ignores other versions. */
export const PROTOCOL_VERSION = 1;

export interface OutboxEventMap {
  /** A new worker refused its manifest; the previous worker (if any) keeps serving. */
  'install-failed': { manifestUrl: string; errors: string[] };
}

export type OutboxEventType = keyof OutboxEventMap;
export type OutboxEvent<K extends OutboxEventType = OutboxEventType> = {
  [T in K]: { type: T; v: typeof PROTOCOL_VERSION } & OutboxEventMap[T];
}[K];

export function isOutboxEvent(data: unknown): data is OutboxEvent {
  return typeof data === 'object' && data !== null && (data as { v?: unknown }).v === PROTOCOL_VERSION && typeof (data as { type?: unknown }).type === 'string';
}
