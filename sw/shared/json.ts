/** The JSON helpers every part of the worker shares. */
export { isObject } from '../../common/json.js';

/** A body's JSON value, or undefined when it is empty or not JSON. */
export function parseJson(body: ArrayBuffer | null | undefined): unknown {
  if (!body?.byteLength) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
}
