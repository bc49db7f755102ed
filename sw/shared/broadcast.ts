/** Tells pages what the worker did (see common/messages.ts). */
import { CHANNEL_NAME, PROTOCOL_VERSION, type OutboxEventMap, type OutboxEventType } from '../../common/messages.js';
import { getScope } from '../scope.js';

let channel: BroadcastChannel | undefined;

/** Never throws: telling pages is best effort, and must not break a replay. */
export function broadcast<K extends OutboxEventType>(type: K, payload: OutboxEventMap[K]): void {
  try {
    (channel ??= new BroadcastChannel(CHANNEL_NAME)).postMessage({ type, v: PROTOCOL_VERSION, ...payload });
  } catch {
    // A closed channel: the next event opens a new one.
    channel = undefined;
  }
}

/** Whether a client is a page inside this registration's scope: the only ones the worker obeys or shows data to. */
export const inScope = (client: Client | null | undefined): client is Client =>
  !!client && (client as { type?: string }).type === 'window' && client.url.startsWith(getScope().registration.scope);

/**
 * An event that carries the app's data (a conflict's local and server
 * versions) goes to the pages of this scope only, not on the origin-wide
 * channel that any page of the origin can listen to. Never throws.
 */
export function tellScope<K extends OutboxEventType>(type: K, payload: OutboxEventMap[K]): void {
  getScope()
    .clients.matchAll({ type: 'window', includeUncontrolled: true })
    .then((all) => {
      for (const client of all) if (inScope(client)) client.postMessage({ type, v: PROTOCOL_VERSION, ...payload });
    })
    .catch(() => {});
}
