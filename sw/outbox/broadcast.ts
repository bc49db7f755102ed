/** Tells every page of the origin what the worker did (see common/messages.ts). */
import { CHANNEL_NAME, PROTOCOL_VERSION, type OutboxEventMap, type OutboxEventType } from '../../common/messages.js';

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
