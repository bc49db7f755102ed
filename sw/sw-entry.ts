/**
 * The drop-in worker (`dist/sw.js`): its manifest is `offline.manifest.json`
 * beside it, or the URL in its registration's `?manifest=` query; or, in a
 * worker written by `offline-outbox build`, the manifest it inlines as
 * `self.offlineOutboxManifest` (routing from its first event, no fetch).
 */
// First: the database opens while the rest of the script is evaluated (see early-open.ts).
import './store/early-open.js';
import type { Manifest } from './manifest/types.js';
import { installOutbox } from './install-outbox.js';
import { getScope } from './scope.js';

const scope = getScope() as ReturnType<typeof getScope> & { offlineOutboxManifest?: Manifest };
installOutbox(scope.offlineOutboxManifest ?? new URL(scope.location.href).searchParams.get('manifest') ?? 'offline.manifest.json');
