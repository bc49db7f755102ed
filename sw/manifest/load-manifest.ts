/** Fetching and checking a manifest: from the network at install, from an object passed in code. */
import { OutboxError } from '../errors.js';
import type { Manifest } from './types.js';
import { formatIssue, validateManifest } from './validate.js';

/** Validates a manifest, or throws `invalid-manifest` listing every problem. */
export function checkManifest(value: unknown, source: string): Manifest {
  const result = validateManifest(value);
  if (!result.ok) throw new OutboxError('invalid-manifest', source, result.issues.map(formatIssue));
  return result.manifest;
}

/**
 * Validates manifest text. The engine's JSON message is passed on as it is:
 * the locating scanner (json.ts) stays out of the worker's size budget, and
 * `offline-outbox check` gives the line and column.
 */
export function parseManifest(text: string, source: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new OutboxError('invalid-manifest', source, [`not valid JSON (${(error as Error).message}); run \`npx offline-outbox check <file>\` for the line and column`]);
  }
  return checkManifest(value, source);
}

export async function fetchManifest(url: string): Promise<Manifest> {
  let response: Response;
  try {
    // Past the HTTP cache: an install must see the manifest as deployed.
    response = await fetch(url, { cache: 'no-cache', credentials: 'same-origin' });
  } catch (error) {
    throw new OutboxError('manifest-unreachable', url, `network error: ${String(error)}`);
  }
  if (!response.ok) throw new OutboxError('manifest-unreachable', url, `HTTP ${response.status}`);
  return parseManifest(await response.text(), url);
}
