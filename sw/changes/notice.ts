/**
 * A change notice, as the server broadcasts it: it names what changed, never
 * carries the data. `{"resource": "todos", "id": "42", "type": "updated",
 * "version": 17, "cursor": "…"}`. Notices are data from the network: each is
 * checked, and one that is not this shape is ignored, never thrown.
 */
import { isObject } from '../overlay/merge-patch.js';

export interface Notice {
  resource: string;
  id: string;
  type: 'created' | 'updated' | 'deleted';
  /** Newer versions compare greater: numbers by value, strings in code-point order. */
  version?: number | string;
  /** Where the feed stands after this notice; opaque. */
  cursor?: string;
}

const TYPES = ['created', 'updated', 'deleted'];
const text = (v: unknown, max = 1024): v is string => typeof v === 'string' && v !== '' && v.length <= max;

/** The notice in `value`, or undefined when it is not one (`known`: the resources it may name). */
export function parseNotice(value: unknown, known: (name: string) => boolean): Notice | undefined {
  if (!isObject(value)) return undefined;
  const { resource, id, type, version, cursor } = value;
  if (!text(resource) || !known(resource) || !(text(id) || Number.isSafeInteger(id)) || !TYPES.includes(type as string)) return undefined;
  if (version !== undefined && !text(version, 256) && !Number.isFinite(version)) return undefined;
  if (cursor !== undefined && !text(cursor)) return undefined;
  return { resource, id: String(id), type: type as Notice['type'], version: version as Notice['version'], cursor: cursor as string | undefined };
}

/** Whether `version` is newer than `seen` (anything is newer than nothing; a number and a string never compare, so both count as new). */
export const isNewer = (version: Notice['version'], seen: Notice['version']): boolean =>
  version === undefined || seen === undefined || typeof version !== typeof seen || version > seen;
