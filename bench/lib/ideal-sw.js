// Calibration only, not a subject: the fastest worker this harness allows.
//
// - As the *ideal worker* (the enqueue case): it answers every POST to
//   /api/r/... at once with 202 and an X-Outbox-Queued id, after reading the
//   body, and stores nothing. Whatever the enqueue loop takes with it is the
//   page, the browser's dispatch to a worker and the harness: what every
//   subject pays before doing any work of its own.
// - As the *ideal replayer* (the replay case): on a message it sends the
//   bench's writes from memory (no storage, no retries) over 6 lanes, in
//   index order, so each resource's writes go in seq order; the same requests
//   offline-outbox sends (JSON body, an Idempotency-Key). Whatever it takes
//   beyond ⌈writes/6⌉ × 20 ms is the cost of the browser, the machine and the
//   harness, which every subject pays too.
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'POST' || !new URL(request.url).pathname.startsWith('/api/r/')) return;
  event.respondWith(
    request.arrayBuffer().then(() => {
      const id = crypto.randomUUID();
      return new Response(JSON.stringify({ queued: true, id }), { status: 202, headers: { 'content-type': 'application/json', 'x-outbox-queued': id } });
    }),
  );
});
self.addEventListener('message', (event) => {
  const { writes, resources, lanes } = event.data;
  let next = 0;
  const lane = async () => {
    while (next < writes) {
      const i = next++;
      const resource = i % resources;
      const seq = Math.floor(i / resources);
      const response = await fetch(`/api/r/${resource}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `"ideal-${i}"` },
        body: JSON.stringify({ resource, seq }),
      });
      await response.arrayBuffer();
    }
  };
  event.waitUntil(Promise.all(Array.from({ length: lanes }, lane)));
});
