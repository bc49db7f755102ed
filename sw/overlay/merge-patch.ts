/** JSON Merge Patch (RFC 7396): how a queued PATCH changes an item. */

import { isObject } from '../shared/json.js';

/** Returns `target` with `patch` applied; neither input is modified. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else {
      const merged = mergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value);
      // Members are data whatever their name: `result[key] = …` with key
      // "__proto__" (JSON.parse makes it an own member) would replace the
      // result's prototype and drop the member from the JSON sent on.
      if (key === '__proto__') Object.defineProperty(result, key, { value: merged, writable: true, enumerable: true, configurable: true });
      else result[key] = merged;
    }
  }
  return result;
}
