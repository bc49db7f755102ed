/**
 * Seeded randomness for the chaos suite: the same seed gives the same
 * schedule, the same latencies and the same 503s (for the same request of the
 * same write). No Math.random anywhere in the harness.
 */

/** A 32-bit hash of the parts (FNV-1a, then a murmur3 finaliser so close inputs spread). */
export function hash32(...parts) {
  const text = parts.map(String).join('\u0000');
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A number in [0, 1) fixed by the parts: a decision that depends only on what it is about. */
export const unitHash = (...parts) => hash32(...parts) / 2 ** 32;

/** A stream of numbers in [0, 1) seeded by the parts (mulberry32). */
export function rng(...parts) {
  let a = hash32(...parts);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * The chaos schedule of one run, in ms from the moment the page starts
 * writing. Each kind of event has its own random stream, so an engine that
 * cannot kill workers gets exactly the same flaps and reloads as one that can.
 *
 * - flaps: the network starts online; it toggles offline/online after each
 *   period of `flapMinMs`..`flapMaxMs`, until `durationMs` (then online for good);
 * - kills: `kills` worker kills, uniformly in 5 %..95 % of the duration;
 * - reloads: `reloads` page reloads, uniformly in 10 %..80 % of it (while the
 *   page is still issuing writes).
 *
 * @returns {{ at: number, type: 'offline' | 'online' | 'kill' | 'reload' }[]} sorted by `at`
 */
export function makeSchedule({ seed, durationMs, kills, reloads, flapMinMs = 1500, flapMaxMs = 4000 }) {
  const events = [];
  const flaps = rng(seed, 'flaps');
  let online = true;
  for (let at = 0; ; ) {
    at += flapMinMs + flaps() * (flapMaxMs - flapMinMs);
    if (at >= durationMs) break;
    online = !online;
    events.push({ at: Math.round(at), type: online ? 'online' : 'offline' });
  }
  const killAt = rng(seed, 'kills');
  for (let i = 0; i < kills; i++) events.push({ at: Math.round(durationMs * (0.05 + 0.9 * killAt())), type: 'kill' });
  const reloadAt = rng(seed, 'reloads');
  for (let i = 0; i < reloads; i++) events.push({ at: Math.round(durationMs * (0.1 + 0.7 * reloadAt())), type: 'reload' });
  // Stable: equal times keep the order above (a flap before a kill before a reload).
  return events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.at - b.e.at || a.i - b.i)
    .map(({ e }) => e);
}
