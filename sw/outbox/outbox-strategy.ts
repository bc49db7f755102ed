/**
 * `OutboxStrategy`: the outbox's way of answering a write, as a
 * workbox-strategies `Strategy`. It stamps the Idempotency-Key, sends the
 * write live in its group's order, and when the network fails queues it
 * with a strict commit before answering 202 (see intercept.ts). The live
 * send goes through the handler, so the route's plugins see it.
 *
 * An app with its own Workbox worker registers it on its write routes:
 *
 *     registerRoute(({ url }) => url.pathname === '/api/todos', new OutboxStrategy({ resource: todos }), 'POST');
 *
 * where `todos` is `{ name: 'todos', collection: '/api/todos', item: '/api/todos/:id' }`
 * (declared once, shared with ReadYourWritesPlugin), or the name of a
 * resource of the manifest given to installOutbox.
 */
import { Strategy, type StrategyHandler, type StrategyOptions } from 'workbox-strategies';
import type { QueueOptions, ResourceSpec, RouteSpec } from '../manifest/types.js';
import { outboxRuntime } from '../outbox-runtime.js';

export interface OutboxStrategyOptions extends Pick<StrategyOptions, 'plugins'> {
  /** The declared resource the route writes to: a resource's name, or its spec with a name (declared then). */
  resource?: string | ({ name: string } & ResourceSpec);
  /** As a manifest route's `queue` (priority, retries, conflicts, limits). */
  queue?: QueueOptions;
  /** @internal The manifest route this strategy serves (installOutbox). */
  route?: RouteSpec;
}

export class OutboxStrategy extends Strategy {
  readonly #runtime = outboxRuntime();
  readonly #route: RouteSpec;

  constructor(options: OutboxStrategyOptions = {}) {
    super({ plugins: options.plugins });
    const { resource } = options;
    if (typeof resource === 'object') {
      const { name, ...spec } = resource;
      this.#runtime.declare({ [name]: spec });
    }
    this.#route = options.route ?? { match: '', resource: typeof resource === 'object' ? resource.name : resource, queue: options.queue };
  }

  protected override async _handle(request: Request, handler: StrategyHandler): Promise<Response> {
    const { outbox, ready } = this.#runtime;
    // A restarted worker may still be reading its manifest (the resource this route names).
    await ready;
    const event = handler.event as FetchEvent;
    outbox.noteRequest(request, event);
    const response = outbox.handleWrite(request, this.#route, event.clientId ?? '', (live) => handler.fetch(live));
    // The passes a write starts (a delivered write, a queued one) finish inside this event.
    handler.waitUntil(response.then(outbox.idle, outbox.idle));
    return response;
  }
}
