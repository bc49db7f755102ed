/**
 * The one module that knows the IndexedDB database: its name, version, stores
 * and upgrades. Everything else speaks through the verbs of the modules built
 * on it (`manifest-store.ts`, and later the outbox).
 */
import type { UseStore } from 'idb-keyval';
import { getScope } from '../scope.js';

const DB_NAME = 'offline-outbox';
const DB_VERSION = 1;
const META = 'meta';

let connection: Promise<IDBDatabase> | undefined;

function upgrade(db: IDBDatabase, oldVersion: number): void {
  // Each case upgrades from the version before it; never edit a released one.
  if (oldVersion < 1) db.createObjectStore(META);
}

export function openDatabase(): Promise<IDBDatabase> {
  connection ??= new Promise<IDBDatabase>((resolve, reject) => {
    const request = getScope().indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion);
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
export const metaStore: UseStore = (mode, callback) =>
  openDatabase().then((db) => callback(db.transaction(META, mode).objectStore(META)));
