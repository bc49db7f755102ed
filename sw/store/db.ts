/**
 * The one module that knows the IndexedDB database: its name, version, stores
 * and upgrades. Everything else speaks through the verbs of the modules built
 * on it (`manifest-store.ts`, `outbox/store.ts`).
 *
 * - `meta`: key-value (idb-keyval's shape): stored manifests, lastSyncAt.
 * - `entries`: the outbox's queued writes without their bodies, keyed by an
 *   auto-incremented sequence (strictly increasing, so FIFO survives clock
 *   changes), with indexes for the lookups that must not read every entry:
 *   by `id`, by `state` (status counts), by `group` and by `resource` (the
 *   overlay reads one declared resource's writes).
 * - `bodies`: the request bodies, keyed by the entry's sequence. Apart so
 *   that listing, counting and scheduling never load body bytes.
 */
import type { UseStore } from 'idb-keyval';
import { getScope } from '../scope.js';

/**
 * One database per registration (scope): two apps on one origin, each with
 * its own worker, never see, replay or clear each other's writes, and each
 * keeps its own change-feed state. Decision: no migration from the single
 * `offline-outbox` database of 0.1, which was never published.
 */
const dbName = () => `offline-outbox ${getScope().registration.scope}`;
const DB_VERSION = 2;
export const META = 'meta';
export const ENTRIES = 'entries';
export const BODIES = 'bodies';

let connection: Promise<IDBDatabase> | undefined;

function upgrade(db: IDBDatabase, oldVersion: number, upgrading: IDBTransaction): void {
  // Each step upgrades from the version before it; never edit a released one.
  if (oldVersion < 1) {
    db.createObjectStore(META);
    const entries = db.createObjectStore(ENTRIES, { keyPath: 'seq', autoIncrement: true });
    entries.createIndex('id', 'id', { unique: true });
    entries.createIndex('state', 'state');
    entries.createIndex('group', 'group');
    db.createObjectStore(BODIES);
  }
  // 2: the overlay reads one declared resource's writes without the others'.
  if (oldVersion < 2) upgrading.objectStore(ENTRIES).createIndex('resource', 'resource');
}

export function openDatabase(): Promise<IDBDatabase> {
  connection ??= new Promise<IDBDatabase>((resolve, reject) => {
    const request = getScope().indexedDB.open(dbName(), DB_VERSION);
    request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion, request.transaction!);
    request.onsuccess = () => {
      const db = request.result;
      // The browser may close the connection (storage cleared, a newer
      // version upgrading): forget it so the next call reopens.
      db.onclose = () => (connection = undefined);
      db.onversionchange = () => {
        db.close();
        connection = undefined;
      };
      resolve(db);
    };
    request.onerror = () => {
      connection = undefined;
      reject(request.error);
    };
  });
  return connection;
}

/** The key-value `meta` store, in idb-keyval's shape, inside our database. */
export const metaStore: UseStore = (mode, callback) => openDatabase().then((db) => callback(db.transaction(META, mode).objectStore(META)));
