/**
 * Group commit: calls that arrive while a transaction is under way wait and
 * share the next one. Under load one commit serves many; an idle call waits
 * for no one. Each call resolves, with its own result, once the transaction
 * holding it has committed (or rejects with its error).
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a commit that returns nothing resolves each write with nothing.
export function grouped<T, R = void>(commit: (batch: T[]) => Promise<R[] | void>): (item: T) => Promise<R> {
  let waiting: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  let running = false;
  const drain = async () => {
    running = true;
    while (waiting.length) {
      const batch = waiting;
      waiting = [];
      try {
        const results = await commit(batch.map((w) => w.item));
        for (const [i, w] of batch.entries()) w.resolve(results?.[i] as R);
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    running = false;
  };
  return (item) =>
    new Promise<R>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (!running) void drain();
    });
}
