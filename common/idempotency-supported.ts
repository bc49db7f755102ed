/**
 * The header `offline-outbox/server`'s idempotency() adds to every answer it
 * passes, so `offline-outbox doctor` can tell from outside that the server
 * honours Idempotency-Key (an RFC 8941 boolean).
 */
export const SUPPORTED_HEADER = 'idempotency-key-supported';
export const SUPPORTED = '?1';
