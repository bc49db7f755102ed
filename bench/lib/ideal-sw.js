// Calibration only, not a subject: the fastest replay this harness allows.
// On a message it sends the bench's 1,000 writes from memory (no storage, no
// retries) over 6 lanes, in index order, so each resource's writes go in
// seq order; the same requests offline-outbox sends (JSON body, an
// Idempotency-Key). Whatever it takes beyond ⌈1000/6⌉ × 20 ms is the cost of
// the browser, the machine and the harness, which every subject pays too.
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
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
