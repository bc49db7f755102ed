/** The worker's global scope, typed (see types/service-worker.d.ts for why it is declared by hand). */
declare const self: ServiceWorkerGlobalScope;

export const getScope = (): ServiceWorkerGlobalScope => self;
