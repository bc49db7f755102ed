/**
 * What a route's reads tell the outbox, as a Workbox plugin:
 *
 * - a read that carries credentials (Authorization) may free writes parked
 *   for want of them (`handlerWillStart`);
 * - a successful answer from the network is a sign that queued writes may
 *   go now (`fetchDidSucceed`).
 */
import type { WorkboxPlugin } from 'workbox-core/types.js';
import { outboxRuntime } from '../outbox-runtime.js';

export class ReplayHintPlugin implements WorkboxPlugin {
  readonly #outbox = outboxRuntime().outbox;

  handlerWillStart: NonNullable<WorkboxPlugin['handlerWillStart']> = async ({ request, event }) => {
    this.#outbox.noteRequest(request, event);
  };

  fetchDidSucceed: NonNullable<WorkboxPlugin['fetchDidSucceed']> = async ({ response, event }) => {
    if (response.ok) this.#outbox.onNetworkSuccess(event);
    return response;
  };
}
