/**
 * Declared resources, read as the worker reads them: the collection (the
 * array at `itemsPath`), its first item's id (`idField`), and that item's
 * URL, whose ETag the worker sends back as `If-Match` on a queued edit. No
 * ETag, or a weak one, and a replayed edit silently overwrites whatever
 * someone else changed meanwhile.
 */
import { itemsAt } from '../sw/overlay/apply.js';
import type { Manifest } from '../sw/manifest/types.js';
import { compileResources, itemUrl, type Resource } from '../sw/resources/resources.js';
import { findRoute, type RouteTable } from '../sw/routing/route-table.js';
import { isObject } from '../common/json.js';
import { type Finding, finding, YOUR_SERVER } from './doctor-finding.js';
import { type Prober, shownUrl } from './doctor-probe.js';
import { storageFindings } from './doctor-routes.js';

const JSON_ACCEPT = { accept: 'application/json' };

/** A field of `item` that looks like its id, to suggest for `idField`. */
const likelyId = (item: Record<string, unknown>): string | undefined =>
  Object.keys(item).find((k) => /^_?id$|^uuid$|^key$|(?:Id|_id|ID)$/.test(k) && (typeof item[k] === 'string' || typeof item[k] === 'number'));

/** A key of `body` holding an array, to suggest for `itemsPath`. */
const likelyItemsPath = (body: unknown): string | undefined => (isObject(body) ? Object.keys(body).find((k) => Array.isArray(body[k])) : undefined);

export async function resourceFindings(prober: Prober, manifest: Manifest, table: RouteTable, page: URL): Promise<Finding[]> {
  const resources = compileResources(manifest, page.origin);
  const rows = await Promise.all(resources.map((resource) => checkResource(prober, manifest, table, page, resource)));
  return rows.flat();
}

async function checkResource(prober: Prober, manifest: Manifest, table: RouteTable, page: URL, resource: Resource): Promise<Finding[]> {
  const { name, spec, idField } = resource;
  const field = `resources.${name}`;
  if (resource.collection.names.length)
    return [finding('resource', name, 'unknown', `the collection ${spec.collection} has parameters: doctor cannot guess them, so its items were not looked at`)];

  const collectionUrl = new URL(spec.collection, resource.origin);
  const at = (u: URL | string) => shownUrl(u, page.origin);
  const listed = await prober.request(collectionUrl, { headers: JSON_ACCEPT });
  if (!listed.ok) return [finding('resource', name, 'warn', `${at(collectionUrl)}: ${listed.error}`, `check ${field}.collection`)];
  const { status } = listed.answer;
  if (status < 200 || status >= 300)
    return [
      finding(
        'resource',
        name,
        'warn',
        `${at(collectionUrl)} answers ${status}: its items could not be looked at`,
        `check ${field}.collection, or the app's answer to GET ${at(collectionUrl)}`,
      ),
    ];
  let body: unknown;
  try {
    body = JSON.parse(listed.answer.body);
  } catch {
    return [
      finding('resource', name, 'blocker', `${at(collectionUrl)} does not answer JSON: the worker cannot show queued writes in it`, `answer GET ${at(collectionUrl)} with JSON`),
    ];
  }
  const items = itemsAt(body, spec.itemsPath);
  if (!Array.isArray(items)) {
    const suggestion = spec.itemsPath ? undefined : likelyItemsPath(body);
    return [
      finding(
        'resource',
        name,
        'blocker',
        `${at(collectionUrl)} has no array ${spec.itemsPath ? `at "${spec.itemsPath}"` : 'at its top'}: the worker cannot show queued creates and edits in it`,
        suggestion ? `add "itemsPath": "${suggestion}" to ${field}` : `set ${field}.itemsPath to the dot path of the array (e.g. "data.items")`,
      ),
    ];
  }
  if (!items.length) return [finding('resource', name, 'unknown', `${at(collectionUrl)} is empty: no item to look at (ETag, id field)`, 'run doctor again once it has an item')];

  const first = items[0];
  const id = isObject(first) ? first[idField] : undefined;
  if (typeof id !== 'string' && typeof id !== 'number') {
    const suggestion = isObject(first) ? likelyId(first) : undefined;
    return [
      finding(
        'resource',
        name,
        'blocker',
        `the first item of ${at(collectionUrl)} has no "${idField}" (${isObject(first) ? `fields: ${Object.keys(first).join(', ') || 'none'}` : 'not an object'}): queued edits cannot be matched to their item, nor shown`,
        suggestion ? `set "idField": "${suggestion}" in ${field}` : `set ${field}.idField to the field that holds an item's id`,
      ),
    ];
  }

  const itemHref = itemUrl(resource, String(id));
  const item = await prober.request(itemHref, { headers: JSON_ACCEPT });
  const itemAt = at(itemHref);
  if (!item.ok) return [finding('resource', name, 'warn', `${itemAt}: ${item.error}`, `check ${field}.item`)];
  if (item.answer.status < 200 || item.answer.status >= 300)
    return [
      finding(
        'resource',
        name,
        'warn',
        `${itemAt} (the item "${String(id)}" of ${at(collectionUrl)}) answers ${item.answer.status}`,
        `check ${field}.item: it must be the URL of one item, as in "/api/todos/:id"`,
      ),
    ];
  const rows = [finding('resource', name, 'ok', `${at(collectionUrl)} lists items with "${idField}"; the first one's URL answers ${item.answer.status}`)];
  const route = findRoute(table, 'GET', new URL(itemHref))?.route;
  // Items are cached under a pattern route that the exact-path rows do not reach: their answers are judged here.
  if (route) rows.push(...storageFindings('route', item.answer, page.origin, route).filter((f) => f.verdict !== 'ok'));
  rows.push(etagFinding(manifest, resource, itemAt, item.answer.headers.get('etag')));
  return rows;
}

function etagFinding(manifest: Manifest, resource: Resource, itemAt: string, etag: string | null): Finding {
  const writes = manifest.routes.filter((r) => r.resource === resource.name && (r.methods ?? ['GET']).some((m) => m !== 'GET'));
  const subject = resource.spec.item;
  if (!writes.length) return finding('etag', subject, 'ok', `no queued writes to ${resource.name}: nothing to detect conflicts for`);
  if (writes.every((r) => r.queue?.detect === 'none')) return finding('etag', subject, 'ok', `conflict detection is off for ${resource.name} ("detect": "none")`);
  const fix = `send a strong ETag with GET ${subject} and answer 412 to a write whose If-Match differs (offline-outbox/server's conditional(); ${YOUR_SERVER})`;
  if (etag === null) return finding('etag', subject, 'warn', `no ETag on ${itemAt}: conflicts go undetected: a queued edit will overwrite someone else's change`, fix);
  if (/^W\//.test(etag.trim()))
    return finding(
      'etag',
      subject,
      'warn',
      `weak ETag ${etag} on ${itemAt}: If-Match needs a strong one, so conflicts go undetected`,
      `send a strong ETag (without W/) with GET ${subject}; If-Match compares strong tags only`,
    );
  return finding('etag', subject, 'ok', `strong ETag ${etag} on ${itemAt}: queued edits carry If-Match`);
}
