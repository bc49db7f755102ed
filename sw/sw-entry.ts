/**
 * The drop-in worker (`dist/sw.js`): its manifest is `offline.manifest.json`
 * beside it, or the URL in its registration's `?manifest=` query.
 */
import { installOutbox } from './install-outbox.js';
import { getScope } from './scope.js';

const own = new URL(getScope().location.href);
installOutbox(own.searchParams.get('manifest') ?? 'offline.manifest.json');
