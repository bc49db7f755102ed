/** Persistence of a worker's validated manifest, so a restarted worker routes without the network. */
import { get, set } from 'idb-keyval';
import { metaStore } from '../store/db.js';
import type { Manifest } from './types.js';

const key = (id: string) => `manifest:${id}`;

export const readManifest = (id: string): Promise<Manifest | undefined> => get<Manifest>(key(id), metaStore);
export const writeManifest = (id: string, manifest: Manifest): Promise<void> => set(key(id), manifest, metaStore);
