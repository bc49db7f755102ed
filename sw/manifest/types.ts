// The manifest's types and name lists live in common/ (the page reads `changes` too); the worker's modules import them from here.
export type * from '../../common/manifest.js';
export {
  CACHE_STRATEGIES,
  CONFLICT_DETECTIONS,
  CONFLICT_POLICIES,
  HTTP_METHODS,
  ID_SOURCES,
  NETWORK_TIMEOUT_STRATEGIES,
  PRIORITY_NAMES,
  UNCACHED_STRATEGIES,
  WRITE_METHODS,
} from '../../common/manifest.js';
