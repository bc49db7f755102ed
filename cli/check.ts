/** `offline-outbox check <file>`: every problem of a manifest, or a line per route. */
import { readFile } from 'node:fs/promises';
import { parseJson } from './json.js';
import type { Manifest, RouteSpec } from '../sw/manifest/types.js';
import { formatIssue, validateManifest } from '../sw/manifest/validate.js';

export interface CheckOutput {
  ok: boolean;
  lines: string[];
}

export function describeRoute(route: RouteSpec, index: number): string {
  const methods = (route.methods ?? ['GET']).join(',');
  const parts = [`routes[${index}]`, methods.padEnd(6), `${route.origin ?? ''}${route.match}`];
  const c = route.cache;
  if (c) {
    const details = [
      c.networkTimeoutSeconds && `timeout ${c.networkTimeoutSeconds} s`,
      c.maxEntries && `max ${c.maxEntries} entries`,
      c.maxAgeSeconds && `max age ${c.maxAgeSeconds} s`,
      c.statuses && `stores ${c.statuses.join('/')}`,
    ].filter(Boolean);
    parts.push(`cache ${c.strategy}${details.length ? ` (${details.join(', ')})` : ''}`);
  }
  if ((route.methods ?? ['GET']).some((m) => m !== 'GET')) {
    const q = route.queue ?? {};
    parts.push(`queue priority ${q.priority ?? 'normal'}${q.conflict ? `, conflict ${q.conflict}` : ''}`);
  }
  if (route.resource) parts.push(`resource ${route.resource}`);
  return parts.join('  ');
}

/** A manifest file read, parsed and validated; or check's report of why not. */
export type ManifestRead = { ok: true; manifest: Manifest } | { ok: false; lines: string[] };

export function readManifestText(text: string, file: string): ManifestRead {
  const parsed = parseJson(text);
  if (!parsed.ok) return { ok: false, lines: [`${file}:${parsed.line}:${parsed.column}: JSON syntax error: ${parsed.message}`] };
  const result = validateManifest(parsed.value);
  if (!result.ok) {
    const n = result.issues.length;
    return { ok: false, lines: [...result.issues.map((i) => `${file}: ${formatIssue(i)}`), `${n} problem${n === 1 ? '' : 's'} in ${file}`] };
  }
  return { ok: true, manifest: result.manifest };
}

export async function readManifestFile(file: string): Promise<ManifestRead> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { ok: false, lines: [`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`] };
  }
  return readManifestText(text, file);
}

export async function checkFile(file: string): Promise<CheckOutput> {
  return describeManifest(await readManifestFile(file), file);
}

function describeManifest(read: ManifestRead, file: string): CheckOutput {
  if (!read.ok) return read;
  const { routes } = read.manifest;
  return { ok: true, lines: [`${file}: valid, ${routes.length} route${routes.length === 1 ? '' : 's'}`, ...routes.map(describeRoute)] };
}
